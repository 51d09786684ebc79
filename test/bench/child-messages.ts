import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with the next IPC message of `type` from a load process, or
 * rejects if the process exits first.
 */
export function nextMessage<T extends object = object>(child: ChildProcess, type: string, name = 'The load process'): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`${name} exited with code ${code} before sending "${type}".`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
