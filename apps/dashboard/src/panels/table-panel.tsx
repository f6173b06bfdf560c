import {
  formatValue,
  readField,
  readNumber,
  type TableColumn,
  type TablePanel as TableConfig,
} from '@livedash/dashboard-config';
import { useChannelSnapshot, useInView } from '../live.js';
import { bandColor } from '../model/thresholds.js';
import { PanelFrame } from './panel-frame.js';

const MAX_ROWS = 200;

/** Rows from an array of objects, or key/value rows from an object; every cell is text. */
function rowsOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.slice(0, MAX_ROWS);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .slice(0, MAX_ROWS)
      .map(([key, entry]) => ({ key, value: entry }));
  }
  return value === undefined ? [] : [{ key: 'value', value }];
}

function columnsFor(panel: TableConfig, rows: unknown[]): TableColumn[] {
  if (panel.columns.length > 0) return panel.columns;
  const first = rows[0];
  const keys = typeof first === 'object' && first !== null ? Object.keys(first).slice(0, 8) : [];
  return keys.map((key) => ({
    field: key,
    label: key,
    unit: panel.unit,
    decimals: panel.decimals,
    bar: false,
    thresholds: [],
  }));
}

function Cell({ column, row }: { column: TableColumn; row: unknown }) {
  const value = readField(row, column.field);
  const number = readNumber(row, column.field);
  if (!column.bar || number === null) {
    return (
      <td className={typeof value === 'number' ? 'numeric num' : undefined}>{formatValue(value, column)}</td>
    );
  }
  const color = bandColor(number, column.thresholds, 'var(--accent)');
  return (
    <td>
      <div className="bar-cell">
        <div className="bar" role="img" aria-label={`${column.label} ${formatValue(number, column)}`}>
          <span style={{ width: `${Math.min(100, Math.max(0, number))}%`, background: color }} />
        </div>
        <span className="num">{formatValue(number, column)}</span>
      </div>
    </td>
  );
}

/** A table of the latest value: disks, endpoints, sensors. */
export function TablePanel({ panel }: { panel: TableConfig }) {
  const [frame, inView] = useInView<HTMLElement>();
  const snapshot = useChannelSnapshot(panel.channel, panel.maxRate, inView);
  const rows = snapshot.data === undefined ? [] : rowsOf(readField(snapshot.data, panel.field));
  const columns = columnsFor(panel, rows);
  return (
    <PanelFrame frameRef={frame} panel={panel} status={snapshot}>
      {rows.length === 0 ? (
        <p className="empty">{snapshot.data === undefined ? 'Waiting for data…' : 'No rows'}</p>
      ) : (
        <div className="table-wrap">
          <table data-testid={`table-${panel.id}`}>
            <thead>
              <tr>
                {columns.map((column) => (
                  <th
                    key={column.field}
                    scope="col"
                    className={
                      !column.bar && typeof readField(rows[0], column.field) === 'number'
                        ? 'numeric'
                        : undefined
                    }
                  >
                    {column.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => (
                // Rows have no identity of their own; position is what the publisher gives us.
                // biome-ignore lint/suspicious/noArrayIndexKey: see above
                <tr key={index}>
                  {columns.map((column) => (
                    <Cell key={column.field} column={column} row={row} />
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </PanelFrame>
  );
}
