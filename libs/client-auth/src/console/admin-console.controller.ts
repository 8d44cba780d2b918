import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type HttpReplyLike, sendReply } from '../nest/http-platform.js';
import { ADMIN_CONSOLE_OPTIONS, type AdminConsoleOptions } from './admin-console.options.js';
import {
  CONSOLE_ASSET_TYPES,
  CONSOLE_CONTENT_SECURITY_POLICY,
  findConsoleAssets,
} from './console-assets.js';

const ASSET_NAME = /^[a-z0-9][a-z0-9-]{0,63}\.(?:js|css|svg)$/;

/**
 * Serves the admin console (SPEC S3) at `/admin/console`: one static page and its scripts and
 * styles, under a strict Content-Security-Policy. The page holds no data: everything it shows
 * comes from the admin REST API, called with the operator's bearer token, so this controller
 * needs no guard of its own. Only files of the built console with known names are served,
 * read once and kept in memory.
 */
@ApiExcludeController()
@Controller('admin/console')
export class AdminConsoleController {
  readonly #cache = new Map<string, Buffer>();
  readonly #assetsDir: string | undefined;

  constructor(@Inject(ADMIN_CONSOLE_OPTIONS) options: AdminConsoleOptions) {
    this.#assetsDir = options.assetsDir ?? findConsoleAssets();
  }

  @Get()
  async page(@Res() res: HttpReplyLike): Promise<void> {
    await this.#send(res, 'index.html', 'no-store');
  }

  @Get('assets/:name')
  async asset(@Res() res: HttpReplyLike, @Param('name') name: string): Promise<void> {
    await this.#sendAsset(res, name, '');
  }

  @Get('assets/js/:name')
  async script(@Res() res: HttpReplyLike, @Param('name') name: string): Promise<void> {
    await this.#sendAsset(res, name, 'js');
  }

  async #sendAsset(res: HttpReplyLike, name: string, folder: string): Promise<void> {
    if (!ASSET_NAME.test(name)) {
      securityHeaders(res);
      sendReply(res, 404, {}, { error: 'not_found', error_description: 'no such console asset' });
      return;
    }
    await this.#send(res, folder ? join(folder, name) : name, 'no-cache');
  }

  async #send(res: HttpReplyLike, file: string, cacheControl: string): Promise<void> {
    securityHeaders(res);
    res.header('Cache-Control', cacheControl);
    const body = await this.#read(file);
    if (body === undefined) {
      const built = this.#assetsDir !== undefined;
      sendReply(
        res,
        built ? 404 : 503,
        {},
        {
          error: built ? 'not_found' : 'temporarily_unavailable',
          error_description: built
            ? 'no such console asset'
            : 'the admin console is not built (run npm run build)',
        },
      );
      return;
    }
    res.header('Content-Type', CONSOLE_ASSET_TYPES[extname(file)] ?? 'application/octet-stream');
    res.status(200);
    res.send(body);
  }

  async #read(file: string): Promise<Buffer | undefined> {
    if (this.#assetsDir === undefined) return undefined;
    const cached = this.#cache.get(file);
    if (cached) return cached;
    try {
      const body = await readFile(join(this.#assetsDir, file));
      this.#cache.set(file, body);
      return body;
    } catch {
      return undefined;
    }
  }
}

function securityHeaders(res: HttpReplyLike): void {
  res.header('Content-Security-Policy', CONSOLE_CONTENT_SECURITY_POLICY);
  res.header('X-Content-Type-Options', 'nosniff');
  res.header('Referrer-Policy', 'no-referrer');
  res.header('Cross-Origin-Opener-Policy', 'same-origin');
  res.header('Cross-Origin-Resource-Policy', 'same-origin');
}
