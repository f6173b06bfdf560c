import {
  formatParts,
  formatValue,
  type GaugePanel as GaugeConfig,
  readNumber,
  type Threshold,
} from '@livedash/dashboard-config';
import { useChannelSnapshot, useInView } from '../live.js';
import { bandColor, bandName, cssColor } from '../model/thresholds.js';
import { PanelFrame } from './panel-frame.js';

// Geometry of a 240° dial, open at the bottom, in a 200×160 box.
const CX = 100;
const CY = 92;
const R = 72;
const BAND_R = 86;
const START = 150;
const SWEEP = 240;

function point(angle: number, radius: number): string {
  const radians = (angle * Math.PI) / 180;
  return `${(CX + radius * Math.cos(radians)).toFixed(2)} ${(CY + radius * Math.sin(radians)).toFixed(2)}`;
}

/** An arc of the dial from fraction `from` to `to` (0–1) of the sweep. */
function arc(from: number, to: number, radius: number): string {
  const a = START + SWEEP * from;
  const b = START + SWEEP * to;
  return `M ${point(a, radius)} A ${radius} ${radius} 0 ${b - a > 180 ? 1 : 0} 1 ${point(b, radius)}`;
}

function bands(thresholds: readonly Threshold[], min: number, max: number) {
  if (thresholds.length === 0) return [];
  const fraction = (value: number) => Math.min(1, Math.max(0, (value - min) / (max - min)));
  const edges = [
    { value: min, color: 'var(--ok)' },
    ...thresholds.map((t) => ({ value: t.value, color: cssColor(t.color) })),
  ];
  return edges
    .map((edge, index) => ({
      from: fraction(edge.value),
      to: fraction(edges[index + 1]?.value ?? max),
      color: edge.color,
    }))
    .filter((band) => band.to > band.from);
}

/** The value's font size at most, and the width it may take: the inside of the dial's ring. */
const VALUE_FONT = 30;
const VALUE_WIDTH = 2 * (R - 7) - 12;

/**
 * The value's font size, so that long numbers ("9,887,543.0") stay inside the ring instead of
 * running over it: a conservative estimate of the text's width (bold tabular digits are about 0.6 em,
 * the unit is drawn at 0.47 em), shrunk to fit.
 */
export function valueFontSize(text: string, unit: string): number {
  const ems = text.length * 0.62 + (unit ? 0.1 + unit.length * 0.47 * 0.62 : 0);
  return Math.min(VALUE_FONT, Math.floor((VALUE_WIDTH / ems) * 10) / 10);
}

/**
 * A dial for one number: an SVG arc coloured by its threshold band, the value as
 * text in the middle, and `role="meter"` with the value in words for screen readers.
 */
export function GaugePanel({ panel }: { panel: GaugeConfig }) {
  const [frame, inView] = useInView<HTMLElement>();
  const snapshot = useChannelSnapshot(panel.channel, panel.maxRate, inView);
  const value = snapshot.data === undefined ? null : readNumber(snapshot.data, panel.field);
  const fraction =
    value === null ? 0 : Math.min(1, Math.max(0, (value - panel.min) / (panel.max - panel.min)));
  const color = bandColor(value, panel.thresholds, 'var(--accent)');
  const level = bandName(value, panel.thresholds);
  const parts = value === null ? { text: '—', unit: '' } : formatParts(value, panel);
  const valueText = value === null ? 'no data' : formatValue(value, panel);
  return (
    <PanelFrame
      frameRef={frame}
      panel={panel}
      status={snapshot}
      meta={level && level !== 'ok' ? level : undefined}
      level={level}
    >
      {/* biome-ignore lint/a11y/useSemanticElements: a native <meter> cannot hold the SVG dial; role=meter gives readers the same. */}
      <div
        className="gauge"
        role="meter"
        aria-label={panel.title}
        aria-valuemin={panel.min}
        aria-valuemax={panel.max}
        aria-valuenow={value ?? undefined}
        aria-valuetext={level && level !== 'ok' ? `${valueText} (${level})` : valueText}
        data-testid={`gauge-${panel.id}`}
      >
        <svg viewBox="0 0 200 160" aria-hidden="true">
          {bands(panel.thresholds, panel.min, panel.max).map((band) => (
            <path
              key={band.from}
              d={arc(band.from, band.to, BAND_R)}
              stroke={band.color}
              strokeWidth="4"
              fill="none"
              opacity="0.55"
            />
          ))}
          <path d={arc(0, 1, R)} stroke="var(--track)" strokeWidth="14" strokeLinecap="round" fill="none" />
          <path
            className="gauge-arc"
            d={arc(0, 1, R)}
            pathLength={100}
            strokeDasharray="100 200"
            strokeDashoffset={100 - fraction * 100}
            stroke={color}
            strokeWidth="14"
            strokeLinecap="round"
            fill="none"
            opacity={value === null ? 0 : 1}
          />
          <text
            x={CX}
            y={CY + 8}
            textAnchor="middle"
            className="gauge-value num"
            style={{ fontSize: valueFontSize(parts.text, parts.unit) }}
          >
            {parts.text}
            {parts.unit && (
              <tspan className="gauge-unit" dx="2">
                {parts.unit}
              </tspan>
            )}
          </text>
          <text x={CX - 54} y={CY + 66} textAnchor="middle" className="gauge-scale num">
            {formatValue(panel.min, { unit: '', decimals: 0 })}
          </text>
          <text x={CX + 54} y={CY + 66} textAnchor="middle" className="gauge-scale num">
            {formatValue(panel.max, { unit: '', decimals: 0 })}
          </text>
        </svg>
      </div>
    </PanelFrame>
  );
}
