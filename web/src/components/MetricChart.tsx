// One metric of a stream session drawn with uPlot: the line (broken where there is no data), the
// target as a dashed line, and starvation shaded behind. The caption carries the numbers in words
// for those who cannot see the canvas.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMetric, type ChartSeries, type Span } from '../domain/health';

const COLORS: Record<string, string> = {
  IngestVideoBitrate: '#a970ff',
  IngestFramerate: '#00c07f',
  KeyframeInterval: '#ff6bb5',
  ConcurrentViews: '#3fa9f5',
};

const clock = (seconds: number) => new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

const AXIS = { stroke: '#adadb8', grid: { stroke: 'rgba(255,255,255,0.07)', width: 1 }, ticks: { stroke: 'rgba(255,255,255,0.12)', width: 1 } };
const HEIGHT = 170;

export function MetricChart({ series, range, starving, live }: { series: ChartSeries; range: [number, number]; starving: Span[]; live: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLSpanElement>(null);
  const plot = useRef<uPlot | null>(null);
  // uPlot's callbacks read the latest range and spans without the chart being built again.
  const spans = useRef(starving);
  spans.current = starving;
  const xRange = useRef(range);
  xRange.current = range;
  const target = useRef(series.target);
  target.current = series.target;
  const color = COLORS[series.name] ?? '#a970ff';
  const unit = series.unit;

  const data = (): uPlot.AlignedData => {
    const line = series.target;
    return line === null ? [series.xs, series.ys] : [series.xs, series.ys, series.xs.map(() => line)];
  };

  // Build once per metric and unit (units change the axis); later data goes through setData.
  useEffect(() => {
    const el = box.current;
    if (!el || !series.hasData) return;
    const seriesOpts: uPlot.Series[] = [
      {},
      {
        label: series.title,
        stroke: color,
        width: 2,
        fill: `${color}22`,
        spanGaps: false,
        points: { show: series.xs.length <= 40, size: 4, fill: color },
      },
    ];
    if (series.target !== null) {
      seriesOpts.push({
        label: series.name === 'KeyframeInterval' ? 'Recommended' : 'Target',
        stroke: 'rgba(239,239,241,0.45)',
        width: 1,
        dash: [6, 5],
        points: { show: false },
      });
    }
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      series: seriesOpts,
      scales: {
        x: { time: true, range: () => xRange.current },
        y: {
          // From zero, with room above the highest value or the target; 0–1 for a flat zero.
          range: (_u, min, max) => {
            const lo = Math.min(0, min ?? 0);
            const hi = Math.max(max ?? 0, target.current ?? 0);
            return [lo, hi > 0 ? hi * 1.15 : 1];
          },
        },
      },
      axes: [
        { ...AXIS, size: 32 },
        { ...AXIS, size: 52, values: (_u, ticks) => ticks.map((t) => formatMetric(t, '')) },
      ],
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      legend: { show: false },
      hooks: {
        // The value under the pointer, in words, over the plot.
        setCursor: [
          (u) => {
            const el = readout.current;
            if (!el) return;
            const i = u.cursor.idx;
            const y = i === null || i === undefined ? null : (u.data[1]?.[i] ?? null);
            if (i === null || i === undefined || y === null) {
              el.hidden = true;
              return;
            }
            el.textContent = `${clock(u.data[0][i]!)} · ${formatMetric(y, unit)}`;
            el.hidden = false;
          },
        ],
        drawClear: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = 'rgba(255,179,26,0.14)';
            for (const span of spans.current) {
              const x0 = u.valToPos(span.from / 1000, 'x', true);
              const x1 = u.valToPos(span.to / 1000, 'x', true);
              const left = Math.max(u.bbox.left, Math.min(x0, x1));
              const right = Math.min(u.bbox.left + u.bbox.width, Math.max(x0, x1));
              if (right > left) ctx.fillRect(left, u.bbox.top, Math.max(2, right - left), u.bbox.height);
            }
            ctx.restore();
          },
        ],
      },
    };
    const chart = new uPlot(opts, data(), el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [series.name, unit, series.hasData, series.target === null]);

  // New data (a live session polled again) and a new range.
  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    chart.setData(data(), false);
    chart.setScale('x', { min: range[0], max: range[1] });
  }, [series, range[0], range[1], starving.length]);

  const summary = series.hasData
    ? `Average ${formatMetric(series.average, unit)}, ${live ? 'now' : 'last'} ${formatMetric(series.latest, unit)}`
    : 'No data for this session';
  return (
    <figure class="metric" data-testid="metric-chart" data-metric={series.name} data-points={series.ys.filter((v) => v !== null).length}>
      <figcaption class="metric__head">
        <span class="metric__title">{series.title}</span>
        {series.hasData && (
          <span class="metric__stats">
            <span class="metric__stat">
              <span class="metric__stat-label">avg</span> {formatMetric(series.average, unit)}
            </span>
            <span class="metric__stat">
              <span class="metric__stat-label">{live ? 'now' : 'last'}</span> {formatMetric(series.latest, unit)}
            </span>
          </span>
        )}
        <span class="visually-hidden">. {summary}.</span>
      </figcaption>
      {series.hasData ? (
        <div class="metric__plot" aria-hidden="true">
          <div ref={box} />
          <span ref={readout} class="metric__readout" hidden />
        </div>
      ) : (
        <div class="metric__empty" data-testid="metric-empty">
          {live ? 'No data yet — it appears within a minute of going live.' : 'No data for this session.'}
        </div>
      )}
      {series.help && <p class="metric__help">{series.help}</p>}
    </figure>
  );
}
