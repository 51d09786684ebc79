import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder under the OS temp dir, and the means to fill and remove it. */
export interface TempDir {
  path: string;
  /** Writes `text` to `name` inside the folder and returns the file's path. */
  write(name: string, text: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createTempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), 'workload-test-'));
  return {
    path,
    async write(name, text) {
      const file = join(path, name);
      await writeFile(file, text, 'utf8');
      return file;
    },
    cleanup: () => rm(path, { recursive: true, force: true }),
  };
}
