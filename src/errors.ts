/**
 * @module errors
 * The few typed errors that services throw. One handler in src/web/errors.ts turns
 * each into a page, an htmx fragment or a JSON error, translated for the reader.
 * Services know nothing of HTTP beyond the status each error implies.
 */
import type { MessageKey, Params } from "./i18n/index.ts";

/** A field-level reason: the message key shown next to the field. */
export type FieldErrors = Record<string, MessageKey>;

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageKey: MessageKey,
    readonly params?: Params,
    readonly fields?: FieldErrors,
  ) {
    super(code);
    this.name = "AppError";
  }
}

export class NotFound extends AppError {
  constructor(messageKey: MessageKey = "error.notFound") {
    super(404, "not_found", messageKey);
  }
}

export class Forbidden extends AppError {
  constructor() {
    super(403, "forbidden", "error.forbidden");
  }
}

export class Unauthorized extends AppError {
  constructor(messageKey: MessageKey = "error.unauthorized") {
    super(401, "unauthorized", messageKey);
  }
}

export class CsrfFailed extends AppError {
  constructor() {
    super(403, "csrf", "error.csrf");
  }
}

export class Invalid extends AppError {
  constructor(fields: FieldErrors, messageKey: MessageKey = "error.invalid", params?: Params) {
    super(422, "invalid", messageKey, params, fields);
  }
}

export class Conflict extends AppError {
  constructor(messageKey: MessageKey = "error.conflict", params?: Params) {
    super(409, "conflict", messageKey, params);
  }
}

export class BadRequest extends AppError {
  constructor(messageKey: MessageKey = "error.badRequest") {
    super(400, "bad_request", messageKey);
  }
}

export class TooLarge extends AppError {
  constructor() {
    super(413, "too_large", "error.tooLarge");
  }
}

export class TooManyRequests extends AppError {
  constructor(messageKey: MessageKey, params?: Params) {
    super(429, "too_many_requests", messageKey, params);
  }
}
