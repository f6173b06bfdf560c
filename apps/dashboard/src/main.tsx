import { LiveProvider } from '@livedash/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app.js';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    {/* One connection for the whole page, to the server that served it. */}
    <LiveProvider url={location.origin}>
      <App />
    </LiveProvider>
  </StrictMode>,
);
