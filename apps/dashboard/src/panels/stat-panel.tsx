import {
  formatParts,
  formatValue,
  readField,
  readNumber,
  type StatPanel as StatConfig,
} from '@livedash/dashboard-config';
import type { CSSProperties } from 'react';
import { useChannelSnapshot, useHistory, useInView } from '../live.js';
import { bandColor, bandName } from '../model/thresholds.js';
import { PanelFrame } from './panel-frame.js';

const SPARK_POINTS = 60;

/** The value's width in characters of its font (the unit is drawn at 0.45 em, after a small gap). */
function statChars(text: string, unit: string): number {
  return Math.max(4, text.length + (unit ? 0.3 + unit.length * 0.45 : 0));
}

/** A big number with its unit (or any value as text) and a sparkline of its recent past. */
export function StatPanel({ panel }: { panel: StatConfig }) {
  const [frame, inView] = useInView<HTMLElement>();
  const snapshot = useChannelSnapshot(panel.channel, panel.maxRate, inView);
  const history = useHistory(panel.channel, SPARK_POINTS, panel.maxRate, inView);
  const raw = snapshot.data === undefined ? undefined : readField(snapshot.data, panel.field);
  const value = snapshot.data === undefined ? null : readNumber(snapshot.data, panel.field);
  const level = bandName(value, panel.thresholds);
  const color = value === null ? 'var(--text)' : bandColor(value, panel.thresholds, 'var(--text)');
  const parts = value === null ? { text: formatValue(raw, panel), unit: '' } : formatParts(value, panel);
  return (
    <PanelFrame
      frameRef={frame}
      panel={panel}
      status={snapshot}
      meta={level && level !== 'ok' ? level : undefined}
      level={level}
    >
      <div className="stat" data-testid={`stat-${panel.id}`}>
        <output
          className={value === null ? 'stat-value stat-text' : 'stat-value num'}
          style={{ color, '--chars': statChars(parts.text, parts.unit) } as CSSProperties}
          aria-label={`${panel.title}: ${formatValue(raw, panel)}`}
        >
          {parts.text}
          {parts.unit && <span className="stat-unit">{parts.unit}</span>}
        </output>
        {value !== null && (
          <Sparkline points={history.map((entry) => readNumber(entry.data, panel.field))} color={color} />
        )}
      </div>
    </PanelFrame>
  );
}

function Sparkline({ points, color }: { points: (number | null)[]; color: string }) {
  const numbers = points.filter((point): point is number => point !== null);
  if (numbers.length < 2) return <svg className="sparkline" aria-hidden="true" />;
  const min = Math.min(...numbers);
  const max = Math.max(...numbers);
  const span = max - min || 1;
  const step = 100 / (points.length - 1);
  let path = '';
  points.forEach((point, index) => {
    if (point === null) return;
    const y = 38 - ((point - min) / span) * 34;
    path += `${path === '' || points[index - 1] === null ? 'M' : 'L'}${(index * step).toFixed(2)} ${y.toFixed(2)}`;
  });
  return (
    <svg className="sparkline" viewBox="0 0 100 40" preserveAspectRatio="none" aria-hidden="true">
      <path
        d={`${path}`}
        fill="none"
        stroke={color === 'var(--text)' ? 'var(--accent)' : color}
        strokeWidth="1.6"
        vectorEffect="non-scaling-stroke"
      />
    </svg>
  );
}
