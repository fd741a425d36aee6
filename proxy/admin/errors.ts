// Stable error codes of the admin API (STYLE rule 7). Every error answer is JSON
// `{ "error": <code>, "message": <text> }`; scripts and dashboards branch on `error`, never on `message`.

export const AdminErrorCode = {
  /** A token is configured and the request carried no `Authorization: Bearer` or a wrong one (401). */
  UNAUTHORIZED: 'unauthorized',
  /** No token is configured and the request did not come from a loopback address (403). */
  FORBIDDEN: 'forbidden',
  /** No such endpoint, or not with this method (404). */
  NOT_FOUND: 'not_found',
  /** Readiness failed: not started, draining, or the store is unreachable (503). */
  NOT_READY: 'not_ready',
  /** The new config failed validation; nothing changed (400, with `problems`). */
  INVALID_CONFIG: 'invalid_config',
  /** The store did not answer (503). */
  STORE_UNAVAILABLE: 'store_unavailable',
  /** The request itself is malformed (a body over the limit, ...) (4xx). */
  BAD_REQUEST: 'bad_request',
  /** Anything else; details go to the log, not to the client (500). */
  INTERNAL: 'internal',
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];

export interface AdminErrorBody {
  error: AdminErrorCode;
  message: string;
  [extra: string]: unknown;
}

/** `error` and `message` first, then `extra` (problems, checks), which cannot replace them. */
export function errorBody(error: AdminErrorCode, message: string, extra: Record<string, unknown> = {}): AdminErrorBody {
  const body: AdminErrorBody = { error, message };
  for (const [key, value] of Object.entries(extra)) if (key !== 'error' && key !== 'message') body[key] = value;
  return body;
}
