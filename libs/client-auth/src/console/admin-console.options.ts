/** Options of {@link AdminConsoleModule.forRoot}. */
export interface AdminConsoleOptions {
  /**
   * Folder of the built console (`index.html`, `console.css`, `js/`). Default: found beside the
   * library (see `findConsoleAssets`).
   */
  readonly assetsDir?: string;
  /** Also serve `GET /admin/stats/*` (the overview and failure chart data). Default true. */
  readonly stats?: boolean;
}

/** Injection token of the resolved {@link AdminConsoleOptions}. */
export const ADMIN_CONSOLE_OPTIONS = Symbol('AdminConsoleOptions');
