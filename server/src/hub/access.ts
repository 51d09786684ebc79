import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface AccessOptions {
  /**
   * Token every dashboard must present: `Authorization: Bearer <token>`,
   * a `token` query parameter, or Socket.IO's `auth.token`. Undefined lets
   * everyone in. @default undefined
   */
  token?: string;
  /**
   * Origins (such as `https://ops.example.com`) whose pages may connect
   * besides the hub's own; `*` allows any. @default [] (same origin only)
   */
  allowedOrigins?: readonly string[];
}

/** Reason a request was rejected, with its HTTP status and stable code. */
export interface AccessDenial {
  status: 401 | 403;
  code: 'UNAUTHORIZED' | 'ORIGIN_NOT_ALLOWED';
  message: string;
}

/** Decides who may watch: the token and the page's origin. */
export class AccessControl {
  private readonly token: Buffer | undefined;
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(options: AccessOptions = {}) {
    this.token = options.token ? Buffer.from(options.token) : undefined;
    this.allowedOrigins = new Set(options.allowedOrigins ?? []);
  }

  get requiresToken(): boolean {
    return this.token !== undefined;
  }

  /** Origins allowed besides the hub's own. */
  get extraOrigins(): string[] {
    return [...this.allowedOrigins];
  }

  /** Checks a request's origin and token; returns undefined when it may pass. */
  check(request: IncomingMessage, presentedToken = tokenOf(request)): AccessDenial | undefined {
    if (!this.originAllowed(request)) {
      return { status: 403, code: 'ORIGIN_NOT_ALLOWED', message: `Origin ${request.headers.origin} is not allowed; add it to ALLOWED_ORIGINS.` };
    }
    if (!this.tokenMatches(presentedToken)) {
      return {
        status: 401,
        code: 'UNAUTHORIZED',
        message: presentedToken === undefined
          ? 'This hub needs a token: send Authorization: Bearer <token> or add ?token=<token>.'
          : 'The token is not valid for this hub.',
      };
    }
    return undefined;
  }

  /**
   * Returns the origin to name in Access-Control-Allow-Origin for a
   * cross-origin request that is allowed, or undefined.
   */
  corsOrigin(request: IncomingMessage): string | undefined {
    const origin = request.headers.origin;
    if (!origin || isSameOrigin(request, origin)) return undefined;
    return this.originAllowed(request) ? origin : undefined;
  }

  tokenMatches(presented: string | undefined): boolean {
    if (!this.token) return true;
    if (presented === undefined) return false;
    const given = Buffer.from(presented);
    // Compared in constant time, so response times do not leak the token.
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  private originAllowed(request: IncomingMessage): boolean {
    const origin = request.headers.origin;
    // Clients that are not browsers send no Origin; the token guards them.
    if (!origin) return true;
    return isSameOrigin(request, origin) || this.allowedOrigins.has('*') || this.allowedOrigins.has(origin);
  }
}

/** Reads the token of a request from its Authorization header or query. */
export function tokenOf(request: IncomingMessage): string | undefined {
  const bearer = bearerToken(request.headers.authorization);
  if (bearer !== undefined) return bearer;

  const query = request.url?.indexOf('?') ?? -1;
  if (query < 0) return undefined;
  return new URLSearchParams(request.url?.slice(query + 1)).get('token') ?? undefined;
}

// NOTE: `Host` comes from the client, so a DNS-rebinding page passes this
// test and only the token stops it (docs/security.md). Checking `Host`
// against the names the hub is served under would close that gap.
function isSameOrigin(request: IncomingMessage, origin: string): boolean {
  const host = request.headers.host;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/** Reads the token of an `Authorization: Bearer <token>` header, the scheme in any case. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^bearer +(\S+)$/i.exec(header);
  return match?.[1];
}
