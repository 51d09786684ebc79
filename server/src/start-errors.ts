import { TraceFormatError } from './workload/index.js';

/**
 * Returns a one-line explanation of an error that stops the hub or the
 * demo at start and that the user can fix, or undefined for any other
 * error, which is shown with its stack.
 */
export function explainStartError(error: unknown): string | undefined {
  if (error instanceof TraceFormatError) return error.message;
  if (!(error instanceof Error)) return undefined;

  const { code, syscall, path, port, address } = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (code === 'EADDRINUSE' && syscall === 'listen') {
    return `Cannot listen on ${address}:${port}: the port is in use. Pick another with PORT=N or --port N (0 picks a free one).`;
  }
  if (code === 'EADDRNOTAVAIL' && syscall === 'listen') {
    return `Cannot listen on ${address}: no network interface of this machine has that address. Set HOST to one it has, such as 127.0.0.1.`;
  }
  if ((code === 'ENOTFOUND' || code === 'EAI_AGAIN') && syscall === 'getaddrinfo') {
    return `Cannot listen on ${(error as { hostname?: string }).hostname}: the name does not resolve. Set HOST to an address or a name this machine resolves.`;
  }
  if (code === 'EACCES' && syscall === 'listen') {
    return `Cannot listen on ${address}:${port}: permission denied. Use a port above 1023.`;
  }
  if (path && (code === 'EISDIR' || code === 'EACCES' || code === 'ENOENT')) {
    return `Cannot read ${path}: ${code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : 'no such file'}.`;
  }
  return undefined;
}
