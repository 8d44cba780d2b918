/// <reference lib="dom" />
import { h, s } from './dom.js';
import type { AuthenticationStats } from './types.js';

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 36, right: 8, top: 10, bottom: 28 };

/**
 * Failures per hour, stacked by reason code, as inline SVG (no library, no inline styles:
 * colours come from `.series-N` classes). Summarised in `<title>`/`<desc>` for screen readers,
 * with a legend and a data table beside it.
 */
export function failureChart(stats: AuthenticationStats): HTMLElement {
  const reasons = Object.entries(stats.failure_totals)
    .sort((a, b) => b[1] - a[1])
    .map(([reason]) => reason);
  const series = new Map(reasons.map((reason, i) => [reason, `series-${i % 8}`]));
  const max = Math.max(1, ...stats.failures.map((hour) => hour.total));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / stats.failures.length;
  const barW = Math.max(2, slot * 0.7);
  const total = reasons.reduce((sum, reason) => sum + (stats.failure_totals[reason] ?? 0), 0);
  const summary =
    total === 0
      ? `No authentication failures in the last ${stats.hours} hours.`
      : `${total} authentication failures in the last ${stats.hours} hours: ` +
        reasons.map((reason) => `${reason} ${stats.failure_totals[reason]}`).join(', ') +
        '.';

  const svg = s(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: 'img',
      'aria-labelledby': 'chart-title chart-desc',
      class: 'chart',
      id: 'failure-chart',
    },
    s('title', { id: 'chart-title' }, `Authentication failures per hour by reason`),
    s('desc', { id: 'chart-desc' }, summary),
  );
  // Axis and grid: 0, half and max.
  for (const fraction of [0, 0.5, 1]) {
    const y = PAD.top + plotH - fraction * plotH;
    svg.appendChild(
      s('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: 'grid' }),
    );
    svg.appendChild(
      s(
        'text',
        { x: PAD.left - 4, y: y + 4, class: 'axis', 'text-anchor': 'end' },
        String(Math.round(fraction * max)),
      ),
    );
  }
  stats.failures.forEach((hour, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let y = PAD.top + plotH;
    for (const reason of reasons) {
      const count = hour.by_reason[reason] ?? 0;
      if (count === 0) continue;
      const height = (count / max) * plotH;
      y -= height;
      const label = `${new Date(hour.hour).toLocaleString()}: ${reason} × ${count}`;
      svg.appendChild(
        s(
          'rect',
          {
            x: x.toFixed(1),
            y: y.toFixed(1),
            width: barW.toFixed(1),
            height: Math.max(height, 1).toFixed(1),
            class: `bar ${series.get(reason)}`,
            'data-reason': reason,
            'data-count': count,
          },
          s('title', {}, label),
        ),
      );
    }
    if (i % 3 === 0 || i === stats.failures.length - 1) {
      const label = new Date(hour.hour).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
      });
      svg.appendChild(
        s(
          'text',
          { x: (x + barW / 2).toFixed(1), y: HEIGHT - 10, class: 'axis', 'text-anchor': 'middle' },
          label,
        ),
      );
    }
  });

  const legend =
    reasons.length === 0
      ? h('p', { class: 'muted', id: 'chart-empty' }, summary)
      : h(
          'ul',
          { class: 'legend', 'aria-label': 'Failure reasons' },
          ...reasons.map((reason) =>
            h(
              'li',
              {},
              h('span', { class: `swatch ${series.get(reason)}`, 'aria-hidden': 'true' }),
              h('code', {}, reason),
              ` ${stats.failure_totals[reason]}`,
            ),
          ),
        );
  const table = h(
    'details',
    {},
    h('summary', {}, 'Show the numbers'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Hour'),
          h('th', { scope: 'col' }, 'Failures by reason'),
        ),
      ),
      h(
        'tbody',
        {},
        ...stats.failures
          .filter((hour) => hour.total > 0)
          .map((hour) =>
            h(
              'tr',
              {},
              h('td', {}, new Date(hour.hour).toLocaleString()),
              h(
                'td',
                {},
                Object.entries(hour.by_reason)
                  .map(([reason, count]) => `${reason} ${count}`)
                  .join(', '),
              ),
            ),
          ),
      ),
    ),
  );
  return h('figure', { class: 'chart-box' }, svg, h('figcaption', {}, legend), table);
}
