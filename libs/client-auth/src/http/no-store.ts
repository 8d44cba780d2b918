import type { HttpReplyLike } from '../nest/http-platform.js';

/**
 * Marks a response that carries credentials or registry data as not cacheable (RFC 6749 §5.1,
 * RFC 7591 §3.2.1).
 */
export function noStore(res: HttpReplyLike): void {
  res.header('Cache-Control', 'no-store');
  res.header('Pragma', 'no-cache');
}
