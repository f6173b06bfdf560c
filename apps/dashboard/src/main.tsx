import type { LiveClientOptions } from '@livedash/client';
import { LiveProvider } from '@livedash/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app.js';

const MODES = ['auto', 'shared-worker', 'worker', 'in-page'] as const;
/** `?client=in-page` (or `worker`, `shared-worker`) forces where the connection runs; default: auto. */
const asked = new URLSearchParams(location.search).get('client');
const worker = MODES.find((mode) => mode === asked) ?? 'auto';
const options: Omit<LiveClientOptions, 'url'> = { worker };

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    {/* One connection for the whole page, to the server that served it. */}
    <LiveProvider url={location.origin} options={options}>
      <App />
    </LiveProvider>
  </StrictMode>,
);
