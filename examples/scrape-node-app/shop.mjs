// A small Node service that exposes Prometheus metrics with prom-client, as many real services do:
// a simulated shop taking orders. livedash scrapes its /metrics onto a channel; the dashboards in
// ./dashboards show it. Usage: node examples/scrape-node-app/shop.mjs  (PORT, default 9464; 0 = any)
import { createServer } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const registry = new Registry();
// Process CPU, memory, event-loop lag, GC… the metrics every prom-client app has.
collectDefaultMetrics({ register: registry });

const orders = new Counter({
  name: 'shop_orders_total',
  help: 'Orders taken, by outcome',
  labelNames: ['status'],
  registers: [registry],
});
const checkoutSeconds = new Histogram({
  name: 'shop_checkout_duration_seconds',
  help: 'Time to complete a checkout',
  buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});
const queueDepth = new Gauge({
  name: 'shop_queue_depth',
  help: 'Orders waiting to be packed',
  registers: [registry],
});

// A day at the shop, sped up: traffic swells and ebbs over a minute, with the odd failed payment.
let queue = 12;
const simulate = setInterval(() => {
  const phase = (Date.now() / 60_000) * 2 * Math.PI;
  const perTick = Math.max(1, Math.round(6 + 4 * Math.sin(phase) + Math.random() * 3));
  for (let order = 0; order < perTick; order++) {
    const failed = Math.random() < 0.03;
    orders.inc({ status: failed ? 'payment_failed' : 'ok' });
    // Slower when busy: latency grows with the queue.
    checkoutSeconds.observe(0.03 + Math.random() * 0.08 + queue / 400 + (Math.random() < 0.02 ? 0.8 : 0));
  }
  // Packing keeps up on average; at the peak of the swell the queue grows, then drains.
  queue = Math.max(0, queue + perTick - 8 - Math.round(Math.random() * 2));
  queueDepth.set(queue);
}, 250);

const server = createServer(async (request, response) => {
  if (request.url === '/metrics') {
    response.writeHead(200, { 'content-type': registry.contentType });
    response.end(await registry.metrics());
    return;
  }
  response.writeHead(404, { 'content-type': 'text/plain' });
  response.end('metrics are at /metrics\n');
});

const port = Number(process.env.PORT ?? 9464);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`shop: metrics at http://127.0.0.1:${address.port}/metrics`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    clearInterval(simulate);
    server.close(() => process.exit(0));
  });
}
