import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
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
  async page(@Res() res: Response): Promise<void> {
    await this.#send(res, 'index.html', 'no-store');
  }

  @Get('assets/:name')
  async asset(@Res() res: Response, @Param('name') name: string): Promise<void> {
    await this.#sendAsset(res, name, '');
  }

  @Get('assets/js/:name')
  async script(@Res() res: Response, @Param('name') name: string): Promise<void> {
    await this.#sendAsset(res, name, 'js');
  }

  async #sendAsset(res: Response, name: string, folder: string): Promise<void> {
    if (!ASSET_NAME.test(name)) {
      securityHeaders(res);
      res.status(404).json({ error: 'not_found', error_description: 'no such console asset' });
      return;
    }
    await this.#send(res, folder ? join(folder, name) : name, 'no-cache');
  }

  async #send(res: Response, file: string, cacheControl: string): Promise<void> {
    securityHeaders(res);
    res.setHeader('Cache-Control', cacheControl);
    const body = await this.#read(file);
    if (body === undefined) {
      const built = this.#assetsDir !== undefined;
      res.status(built ? 404 : 503).json({
        error: built ? 'not_found' : 'temporarily_unavailable',
        error_description: built
          ? 'no such console asset'
          : 'the admin console is not built (run npm run build)',
      });
      return;
    }
    res.setHeader('Content-Type', CONSOLE_ASSET_TYPES[extname(file)] ?? 'application/octet-stream');
    res.status(200).send(body);
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

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}
