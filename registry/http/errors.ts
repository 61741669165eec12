/** An error with an HTTP status, turned into the Dynamo envelope by the app. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 500 | 503,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** 400 naming the parameter at fault. */
export class BadRequest extends HttpError {
  constructor(readonly parameter: string, reason: string) {
    super(400, `Parameter "${parameter}": ${reason}`);
    this.name = "BadRequest";
  }
}

export const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  500: "Internal Server Error",
  503: "Service Unavailable",
};
