// Exit codes scripts can rely on.
export const EXIT = {
  ok: 0,
  /** The operation ran and failed (or was cancelled). */
  failed: 1,
  /** Bad usage, an invalid file, or the server refused the input (400, 409, 422). */
  usage: 2,
  /** Not logged in, bad token, or not allowed (401, 403). */
  auth: 3,
  notFound: 4,
  /** The server could not be reached. */
  unreachable: 5,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  the operation failed (or was cancelled), or the server had an error
  2  usage or validation error (bad arguments, invalid file, 400/409/422 from the server)
  3  authentication or authorisation error (401/403; run "flotilla login")
  4  not found (404)
  5  server unreachable

Environment:
  FLOTILLA_SERVER, FLOTILLA_TOKEN   override the server and token saved by "flotilla login"`;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number, readonly details?: unknown) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status >= 400 && status < 500) return EXIT.usage;
  return EXIT.failed;
}
