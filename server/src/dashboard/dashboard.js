// The hub's dashboard page: shows each metering frame from /events, charts
// the last hour starting from /history, and shows whether the figures are
// live. Plain ES2020 without modules, served as is. Text from a frame goes in
// through textContent only, because node ids and model labels come from chat
// nodes and are not trusted.
(function () {
  'use strict';

  // An hour of 1 s ticks.
  const MAX_CHART_POINTS = 3600;
  const CHART_WINDOW_MS = 60 * 60 * 1000;
  // The hub ticks every 1 s while streams are active and every 10 s while
  // idle, so a longer silence means frames were missed: the chart breaks its
  // lines there instead of drawing across the gap.
  const CHART_GAP_MS = 30 * 1000;
  const CHART_HEIGHT = 260;
  const TIME_AXIS_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  // Delay before opening a new EventSource once the browser has given up on
  // the old one (readyState CLOSED, as after an HTTP error status). It
  // doubles on each failure up to the maximum.
  const RETRY_MIN_MS = 2000;
  const RETRY_MAX_MS = 30 * 1000;

  // A hub with HUB_TOKEN set serves its figures only with the token; the
  // page passes on the one it was opened with (/?token=...).
  const TOKEN = new URLSearchParams(location.search).get('token');

  const TPS_COLOR = '#2563eb';
  const TOTAL_COLOR = '#d97706';

  const elements = {
    connection: byId('connection'),
    updated: byId('updated'),
    staleNote: byId('stale-note'),
    tps: byId('tps'),
    high: byId('high'),
    low: byId('low'),
    total: byId('total'),
    active: byId('active'),
    outTps: byId('out-tps'),
    reasoningTps: byId('reasoning-tps'),
    outBar: byId('out-bar'),
    reasoningBar: byId('reasoning-bar'),
    ttftP50: byId('ttft-p50'),
    ttftP95: byId('ttft-p95'),
    ttftSamples: byId('ttft-samples'),
    nodesBody: byId('nodes-body'),
    modelsBody: byId('models-body'),
    chart: byId('chart'),
  };

  // 'connecting' before the first open, 'open', or 'reconnecting' after an
  // error until the next open.
  let connection = 'connecting';
  let latestFrame = null;
  let retryMs = RETRY_MIN_MS;

  // Chart points { at, tps, total }, oldest first, `at` in ms since the epoch.
  let points = [];
  let chart = null;
  // `at` of the newest chart point when the connection dropped. On the next
  // open, /history fills in what came after it.
  let gapStartAt = -Infinity;
  // `at` of the first frame of the current connection. The chart has the
  // /history points from then on already, as live points.
  let liveSinceAt = Infinity;

  function byId(id) {
    const element = document.getElementById(id);
    if (!element) throw new Error(`Dashboard element #${id} is missing from index.html.`);
    return element;
  }

  // ---- formatting ----

  function formatRate(value) {
    return Number.isFinite(value) ? value.toFixed(1) : '–';
  }

  function formatCount(value) {
    return Number.isFinite(value) ? String(Math.round(value)) : '–';
  }

  function formatClock(ms) {
    const date = new Date(ms);
    const parts = [date.getHours(), date.getMinutes(), date.getSeconds()];
    return parts.map((part) => String(part).padStart(2, '0')).join(':');
  }

  // ---- figures ----

  function renderFrame(frame) {
    elements.tps.textContent = formatRate(frame.tps);
    elements.high.textContent = formatRate(frame.high);
    elements.low.textContent = formatRate(frame.low);
    elements.total.textContent = formatRate(frame.total);
    elements.active.textContent = formatCount(frame.active);
    renderSplit(frame.outTps, frame.reasoningTps);
    renderTtft(frame.ttft || {});
    renderGroups(elements.nodesBody, frame.nodes, frame.total, 'node');
    renderGroups(elements.modelsBody, frame.models, frame.total, 'model');
    elements.updated.textContent = formatClock(frame.at);
    elements.updated.dateTime = new Date(frame.at).toISOString();
  }

  function renderSplit(outTps, reasoningTps) {
    elements.outTps.textContent = formatRate(outTps);
    elements.reasoningTps.textContent = formatRate(reasoningTps);
    const sum = (outTps || 0) + (reasoningTps || 0);
    const outPercent = sum > 0 ? (100 * (outTps || 0)) / sum : 0;
    const reasoningPercent = sum > 0 ? 100 - outPercent : 0;
    elements.outBar.style.width = `${outPercent}%`;
    elements.reasoningBar.style.width = `${reasoningPercent}%`;
  }

  function renderTtft(ttft) {
    const measured = Number.isFinite(ttft.samples) && ttft.samples > 0;
    elements.ttftP50.textContent = measured ? formatCount(ttft.p50) : '–';
    elements.ttftP95.textContent = measured ? formatCount(ttft.p95) : '–';
    elements.ttftSamples.textContent = measured
      ? `${ttft.samples} first tokens in the last 60 s`
      : 'no first token in the last 60 s';
  }

  // ---- node and model tables ----

  function renderGroups(body, groups, fleetTotal, kind) {
    const list = Array.isArray(groups) ? groups : [];
    const rows = list.map((group) => groupRow(group, fleetTotal, kind));
    if (rows.length === 0) rows.push(emptyRow(kind));
    body.replaceChildren(...rows);
  }

  function groupRow(group, fleetTotal, kind) {
    const row = document.createElement('tr');
    row.setAttribute('data-testid', `${kind}-row`);
    const keyCell = textCell(String(group.key), 'key');
    if (group.other === true) {
      row.classList.add('other');
      row.setAttribute('data-other', 'true');
      keyCell.title = `The ${kind}s past the busiest ones that the hub lists, summed`;
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = 'rest, summed';
      keyCell.append(' ', tag);
    }
    row.append(
      keyCell,
      textCell(formatRate(group.tps), 'num'),
      shareCell(group.total, fleetTotal),
      textCell(formatCount(group.active), 'num'),
    );
    return row;
  }

  function textCell(text, className) {
    const cell = document.createElement('td');
    cell.className = className;
    cell.textContent = text;
    return cell;
  }

  // The group's fleet total beside a bar of its share of the whole fleet.
  function shareCell(total, fleetTotal) {
    const cell = textCell('', 'num share');
    const layout = document.createElement('div');
    layout.className = 'share-cell';
    const track = document.createElement('span');
    track.className = 'share-track';
    const bar = document.createElement('span');
    bar.className = 'bar';
    const share = fleetTotal > 0 && Number.isFinite(total) ? total / fleetTotal : 0;
    bar.style.width = `${Math.min(100, Math.max(0, 100 * share))}%`;
    track.append(bar);
    const value = document.createElement('span');
    value.className = 'bar-value';
    value.textContent = formatRate(total);
    layout.append(track, value);
    cell.append(layout);
    return cell;
  }

  function emptyRow(kind) {
    const row = document.createElement('tr');
    row.className = 'empty';
    const cell = textCell(
      kind === 'node' ? 'No node has reported a stream yet.' : 'No stream has reported a model label.',
      'empty',
    );
    cell.colSpan = 4;
    row.append(cell);
    return row;
  }

  // ---- connection state ----

  function renderStatus() {
    const busDown = latestFrame !== null && latestFrame.busReady === false;
    let text = 'connected';
    let state = 'ok';
    if (connection === 'connecting') {
      text = 'connecting…';
      state = 'pending';
    } else if (unauthorized) {
      text = 'not authorized';
      state = 'down';
    } else if (connection === 'reconnecting') {
      text = 'reconnecting…';
      state = 'down';
    } else if (busDown) {
      text = 'hub reports Redis down';
      state = 'warning';
    }
    elements.connection.textContent = text;
    elements.connection.setAttribute('data-state', state);
    if (unauthorized) {
      elements.staleNote.hidden = false;
      elements.staleNote.textContent = 'Not authorized: this hub needs a token. Open the page as /?token=<token>.';
      return;
    }

    const stale = latestFrame !== null && (connection !== 'open' || busDown);
    document.body.setAttribute('data-stale', String(stale));
    elements.staleNote.hidden = !stale;
    if (stale) elements.staleNote.textContent = staleReason(busDown);

    const rate = latestFrame ? `${formatRate(latestFrame.tps)} tok/s · ` : '';
    document.title = `${stale ? '(stale) ' : ''}${rate}metering hub`;
  }

  function staleReason(busDown) {
    const time = formatClock(latestFrame.at);
    if (connection !== 'open') {
      return `Stale: the hub is unreachable, so these figures are from the frame of ${time}.`;
    }
    if (busDown) {
      return 'Stale: the hub has lost its Redis subscription and receives no node updates, so these figures do not follow the fleet.';
    }
    return '';
  }

  // Set when the hub turns the page's requests away for want of a token.
  let unauthorized = false;

  function withToken(path) {
    return TOKEN ? `${path}?token=${encodeURIComponent(TOKEN)}` : path;
  }

  function connect() {
    const source = new EventSource(withToken('/events'));

    source.addEventListener('open', () => {
      unauthorized = false;
      retryMs = RETRY_MIN_MS;
      connection = 'open';
      liveSinceAt = Infinity;
      renderStatus();
      loadHistory(gapStartAt);
    });

    source.addEventListener('metering', (event) => onMeteringEvent(event.data));

    source.addEventListener('error', () => {
      if (connection === 'open') gapStartAt = newestPointAt();
      connection = 'reconnecting';
      renderStatus();
      // While CONNECTING the browser retries by itself. CLOSED means it gave
      // up for good, so a new EventSource is the only way back.
      if (source.readyState === EventSource.CLOSED) {
        checkAuthorization();
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    });
  }

  // EventSource hides the status of a rejected request, so a plain request
  // shows whether the hub requires a token.
  function checkAuthorization() {
    fetch(withToken('/stats'), { cache: 'no-store' })
      .then((response) => {
        unauthorized = response.status === 401;
        renderStatus();
      })
      .catch(() => {});
  }

  function onMeteringEvent(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      console.warn('Ignored a metering event that is not valid JSON:', error);
      return;
    }
    latestFrame = frame;
    if (liveSinceAt === Infinity) liveSinceAt = frame.at;
    renderFrame(frame);
    renderStatus();
    addLivePoint({ at: frame.at, tps: frame.tps, total: frame.total });
  }

  // ---- chart ----

  function loadHistory(afterAt) {
    fetch(withToken('/history'), { cache: 'no-store' })
      .then((response) => {
        if (response.status === 401) {
          unauthorized = true;
          renderStatus();
        }
        if (!response.ok) throw new Error(`GET /history returned HTTP ${response.status}`);
        return response.json();
      })
      .then((history) => {
        const missed = history.filter((point) => point.at > afterAt && point.at < liveSinceAt);
        points = mergePoints(points, missed);
        redrawChart();
      })
      .catch((error) => {
        // The chart goes on with live points, and the next reconnect tries again.
        console.warn('Loading the chart history failed:', error);
      });
  }

  function newestPointAt() {
    return points.length > 0 ? points[points.length - 1].at : -Infinity;
  }

  function addLivePoint(point) {
    // The hub sends its latest frame again on every reconnect.
    if (point.at <= newestPointAt()) return;
    points.push(point);
    redrawChart();
  }

  // Merges two lists sorted by `at`. On equal `at`, the point of `existing` is kept.
  function mergePoints(existing, incoming) {
    const merged = [];
    let i = 0;
    let j = 0;
    while (i < existing.length || j < incoming.length) {
      const a = existing[i];
      const b = incoming[j];
      if (b === undefined || (a !== undefined && a.at <= b.at)) {
        merged.push(a);
        if (b !== undefined && b.at === a.at) j += 1;
        i += 1;
      } else {
        merged.push(b);
        j += 1;
      }
    }
    return merged;
  }

  function trimPoints() {
    const oldestKept = newestPointAt() - CHART_WINDOW_MS;
    let first = 0;
    while (first < points.length && points[first].at < oldestKept) first += 1;
    first = Math.max(first, points.length - MAX_CHART_POINTS);
    if (first > 0) points = points.slice(first);
  }

  // uPlot's columns: x in seconds, then one column per series. A null
  // entry after each long gap breaks the lines there.
  function chartData() {
    const xs = [];
    const tps = [];
    const totals = [];
    let previousAt = -Infinity;
    for (const point of points) {
      if (point.at - previousAt > CHART_GAP_MS && xs.length > 0) {
        xs.push((previousAt + 1) / 1000);
        tps.push(null);
        totals.push(null);
      }
      xs.push(point.at / 1000);
      tps.push(point.tps);
      totals.push(point.total);
      previousAt = point.at;
    }
    return [xs, tps, totals];
  }

  function chartOptions(width) {
    return {
      width,
      height: CHART_HEIGHT,
      scales: { x: { time: true }, tps: { auto: true }, total: { auto: true } },
      series: [
        {},
        { label: 'per-stream mean (tok/s)', scale: 'tps', stroke: TPS_COLOR, width: 2, points: { show: false }, value: rateValue },
        { label: 'fleet total (tok/s)', scale: 'total', stroke: TOTAL_COLOR, width: 1.5, points: { show: false }, value: rateValue },
      ],
      axes: [
        // Steps of 1 s and up, because the hub sends at most one frame a second.
        { incrs: TIME_AXIS_STEPS_S },
        { scale: 'tps', stroke: TPS_COLOR, label: 'per-stream mean', size: 50 },
        { scale: 'total', stroke: TOTAL_COLOR, label: 'fleet total', side: 1, size: 60, grid: { show: false } },
      ],
    };
  }

  function rateValue(_chart, value) {
    return value === null || value === undefined ? '–' : formatRate(value);
  }

  function createChart() {
    if (typeof uPlot !== 'function') {
      elements.chart.textContent = 'The chart library (uPlot) did not load, so there is no chart.';
      return;
    }
    chart = new uPlot(chartOptions(chartWidth()), chartData(), elements.chart);
    new ResizeObserver(() => {
      chart.setSize({ width: chartWidth(), height: CHART_HEIGHT });
    }).observe(elements.chart);
  }

  function chartWidth() {
    return Math.max(200, elements.chart.clientWidth);
  }

  function redrawChart() {
    trimPoints();
    if (chart) chart.setData(chartData());
  }

  createChart();
  renderStatus();
  connect();
})();
