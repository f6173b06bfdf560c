import { useView, viewStore, WINDOWS } from '../model/view-store.js';

/** The chart window picker (a radio group: arrow keys move between 1m, 5m, 15m) and pause/resume. */
export function ViewControls() {
  const view = useView();
  return (
    <>
      <fieldset className="segmented" aria-label="Chart time window">
        <legend className="visually-hidden">Chart time window</legend>
        {WINDOWS.map((window) => (
          <label key={window.label} title={`Show the last ${window.name}`}>
            <input
              type="radio"
              name="window"
              value={window.label}
              checked={view.windowMs === window.ms}
              onChange={() => viewStore.setWindow(window.ms)}
              aria-label={`Last ${window.name}`}
            />
            {window.label}
          </label>
        ))}
      </fieldset>
      <button
        type="button"
        className="button"
        aria-pressed={view.paused}
        onClick={() => viewStore.setPaused(!view.paused)}
        title={view.paused ? 'Resume live updates' : 'Freeze the screen; data keeps arriving underneath'}
        data-testid="pause"
      >
        <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
          {view.paused ? (
            <path d="M2.5 1.5v9l8-4.5z" fill="currentColor" />
          ) : (
            <path d="M2.5 1.5h2.5v9H2.5zM7 1.5h2.5v9H7z" fill="currentColor" />
          )}
        </svg>
        {view.paused ? 'Resume' : 'Pause'}
      </button>
    </>
  );
}
