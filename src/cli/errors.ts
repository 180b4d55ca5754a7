// Errors the CLI shows as docker shows them. No imports: the entry point
// loads this before any command's code.

/** A failure with docker's exit status and message (printed as is). */
export class StatusError extends Error {
  readonly status: number;
  constructor(message: string, status = 1) {
    super(message);
    this.name = 'StatusError';
    this.status = status;
  }
}

/** The user said no at a prompt: exit 0 without a message, as docker does. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** An error as docker shows it: daemon errors get "Error response from daemon: ". */
export function displayError(err: unknown): string {
  // by name, so that this module need not load the HTTP client
  if (err instanceof Error && err.name === 'ApiError') return `Error response from daemon: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
