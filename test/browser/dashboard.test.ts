import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { Hub } from '@metering-hub/server';
import { createPublisher, MemoryBus, type MeteringFrame, type Publisher } from '@metering-hub/shared';
import { type Browser, chromium, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import { FleetReplay, loadWorkload, runFleetRealtime } from '../../server/src/workload/index.js';
import { silentLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/wait.js';

// Chromium from the Debian package, because playwright-core downloads no browser.
const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const chromiumInstalled = existsSync(CHROMIUM_PATH);

const ARTIFACTS_FOLDER = fileURLToPath(new URL('../artifacts/', import.meta.url));
const NODE_IDS = ['node-1', 'node-2', 'node-3', 'node-4'];

// Figures of the frame that the page shows, by data-testid.
const FIGURES = ['tps', 'high', 'low', 'total', 'active'] as const;
type Figure = (typeof FIGURES)[number];

interface RunningHub {
  hub: Hub;
  url: string;
  close: () => Promise<void>;
}

/** Starts a hub on an in-process bus with `nodeIds.length` publishers. */
async function startHub(nodeIds: string[]): Promise<RunningHub & { publishers: Publisher[] }> {
  const bus = new MemoryBus();
  const hub = new Hub({ bus, port: 0, logger: silentLogger });
  const address = await hub.listen();
  const publishers = nodeIds.map((nodeId) => createPublisher({ nodeId, bus, logger: silentLogger }));

  const close = async (): Promise<void> => {
    await Promise.all(publishers.map((publisher) => publisher.close()));
    await hub.close();
    await bus.close();
  };
  return { hub, url: `http://127.0.0.1:${address.port}`, publishers, close };
}

/**
 * Starts the demo: a hub and four nodes replaying the conv workload 20 times
 * faster than it was recorded, like `pnpm demo --speed 20`.
 */
async function startDemo(): Promise<RunningHub> {
  const workload = await loadWorkload();
  const running = await startHub(NODE_IDS);
  const fleet = new FleetReplay({ requests: workload.requests, publishers: running.publishers, speed: 20 });
  const run = runFleetRealtime(fleet);

  const close = async (): Promise<void> => {
    run.stop();
    await running.close();
  };
  return { hub: running.hub, url: running.url, close };
}

async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install the Debian package chromium ` +
        '(apt-get install chromium) to run the dashboard tests.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Opens the dashboard and records every script error and console error. */
async function openDashboard(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
  });
  await page.goto(`${url}/`);
  return { page, errors };
}

async function textOf(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

// Reads all figures in one evaluation, so that no frame lands between reads.
function readFigures(page: Page): Promise<Record<Figure, number>> {
  return page.evaluate((names) => {
    const figures: Record<string, number> = {};
    for (const name of names) {
      const text = document.querySelector(`[data-testid="${name}"]`)?.textContent ?? '';
      figures[name] = Number(text);
    }
    return figures;
  }, [...FIGURES]) as Promise<Record<Figure, number>>;
}

interface PageStatus {
  connection: string;
  stale: string | null;
  staleNote: string;
  staleNoteVisible: boolean;
  title: string;
  tps: string;
}

// Reads the connection state and the stale marks in one evaluation.
function readStatus(page: Page): Promise<PageStatus> {
  return page.evaluate(() => {
    const text = (testId: string) => document.querySelector(`[data-testid="${testId}"]`)?.textContent ?? '';
    const staleNote = document.querySelector<HTMLElement>('[data-testid="stale"]');
    return {
      connection: text('connection'),
      stale: document.body.getAttribute('data-stale'),
      staleNote: text('stale'),
      staleNoteVisible: staleNote !== null && !staleNote.hidden,
      title: document.title,
      tps: text('tps'),
    };
  });
}

async function fetchStats(url: string): Promise<MeteringFrame> {
  const response = await fetch(`${url}/stats`);
  expect(response.status).toBe(200);
  return (await response.json()) as MeteringFrame;
}

/**
 * Reads /stats and then the page until both show the same figures. The page
 * may be a frame behind /stats, or a tick may land between the two reads, so
 * attempts go on for a few seconds. Returns the last attempt either way,
 * for the caller to assert on figure by figure.
 */
async function compareWithStats(
  page: Page,
  url: string,
): Promise<{ onPage: Record<Figure, number>; expected: Record<Figure, number> }> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const frame = await fetchStats(url);
    const onPage = await readFigures(page);
    const expected = { tps: frame.tps, high: frame.high, low: frame.low, total: frame.total, active: frame.active };
    const agree = FIGURES.every((name) => onPage[name] === expected[name]);
    if (agree || performance.now() > deadline) return { onPage, expected };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!chromiumInstalled && !process.env.CI)('dashboard page', () => {
  it('shows the live figures of the demo', async () => {
    const demo = await startDemo();
    try {
      const browser = await launchBrowser();
      try {
        const { page, errors } = await openDashboard(browser, demo.url);
        const initialTps = await textOf(page, 'tps');

        await waitFor(async () => (await textOf(page, 'tps')) !== initialTps, {
          what: 'the tps label to change from its initial value',
        });
        await waitFor(async () => (await page.getByTestId('node-row').count()) === NODE_IDS.length, {
          what: `the node table to list ${NODE_IDS.length} nodes`,
        });

        const { onPage, expected } = await compareWithStats(page, demo.url);
        for (const name of FIGURES) {
          expect(onPage[name], `figure "${name}"`).toBe(expected[name]);
        }
        expect(await textOf(page, 'connection')).toBe('connected');
        expect(await page.getByTestId('stale').isVisible()).toBe(false);
        expect(await page.title()).toMatch(/^\d+\.\d tok\/s · metering hub$/);

        expect(await page.locator('[data-testid="chart"] canvas').count()).toBeGreaterThan(0);
        const nodeKeys = await page.locator('[data-testid="node-row"] td.key').allTextContents();
        expect(nodeKeys.sort()).toEqual(NODE_IDS);

        await mkdir(ARTIFACTS_FOLDER, { recursive: true });
        await page.screenshot({ path: `${ARTIFACTS_FOLDER}dashboard.png`, fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    } finally {
      await demo.close();
    }
  });

  it('shows reconnecting after the hub stops', async () => {
    const demo = await startDemo();
    try {
      const browser = await launchBrowser();
      try {
        const { page } = await openDashboard(browser, demo.url);
        await waitFor(async () => (await page.getByTestId('node-row').count()) > 0, {
          what: 'the node table to list a node',
        });
        expect(await textOf(page, 'connection')).toBe('connected');

        // NOTE: Hub.close() can wait until the browser is gone. It resolves
        // once every HTTP connection has ended, but the closing hub leaves a
        // spare connection of Chromium's open and accepts the EventSource
        // retry on it. So demo.close() awaits this promise after the browser
        // has closed, and rethrows its error.
        demo.hub.close().catch(() => {});

        // One snapshot at the moment the page reacts, before any retry.
        let status = await readStatus(page);
        await waitFor(async () => {
          status = await readStatus(page);
          return status.connection === 'reconnecting…';
        }, { what: 'the connection state to read "reconnecting…"' });
        expect(status.stale).toBe('true');
        expect(status.staleNoteVisible).toBe(true);
        expect(status.staleNote).toContain('the hub is unreachable');
        expect(status.title).toMatch(/^\(stale\) /);
        // The last figures stay on the page, marked stale rather than blanked.
        expect(status.tps).toMatch(/^\d+\.\d$/);
      } finally {
        await browser.close();
      }
    } finally {
      await demo.close();
    }
  });

  it('escapes keys and marks the (other) row', async () => {
    // Node ids and model labels are any strings a node sends. 52 nodes with
    // one stream each tie on rate and activity, because a single token gives
    // no rate yet. The frame then ranks them by key: the hostile id sorts
    // first, before "node-…", and the last two nodes are summed into
    // "(other)". The token makes the hub tick every second, not every 10 s.
    const hostileNode = '<img src=x onerror="window.injected = true">';
    const hostileModel = '<script>window.injected = true</script>';
    const plainNodes = Array.from({ length: 51 }, (_, index) => `node-${String(index + 1).padStart(2, '0')}`);
    const running = await startHub([hostileNode, ...plainNodes]);
    try {
      running.publishers.forEach((publisher, index) => {
        publisher.begin('stream-1', index === 0 ? { model: hostileModel } : {});
        publisher.token('stream-1', 1);
      });
      const browser = await launchBrowser();
      try {
        const { page, errors } = await openDashboard(browser, running.url);
        await waitFor(async () => (await page.getByTestId('node-row').count()) === 51, {
          what: 'the node table to list 50 nodes and the (other) row',
        });

        const nodeKeys = await page.locator('[data-testid="node-row"] td.key').allTextContents();
        expect(nodeKeys[0]).toBe(hostileNode);
        const modelKeys = await page.locator('[data-testid="model-row"] td.key').allTextContents();
        expect(modelKeys).toEqual([hostileModel]);
        expect(await page.locator('main img').count()).toBe(0);
        expect(await page.locator('main script').count()).toBe(0);
        expect(await page.evaluate(() => (window as { injected?: boolean }).injected)).toBeUndefined();

        const otherRows = page.locator('[data-testid="node-row"][data-other="true"]');
        expect(await otherRows.count()).toBe(1);
        expect(await otherRows.locator('td.key').textContent()).toContain('(other)');
        expect(await otherRows.locator('td.num').last().textContent()).toBe('2');
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    } finally {
      await running.close();
    }
  });
});
