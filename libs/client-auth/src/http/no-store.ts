import type { Response } from 'express';

/**
 * Marks a response that carries credentials or registry data as not cacheable (RFC 6749 §5.1,
 * RFC 7591 §3.2.1).
 */
export function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}
