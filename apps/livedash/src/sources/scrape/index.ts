export {
  type ExpositionError,
  type MetricFamily,
  type MetricType,
  parseExposition,
  type Sample,
} from './exposition.js';
export { bucketQuantile, labelKey, type ScrapeData, toScrapeData } from './scrape-data.js';
export { ScrapeMetrics } from './scrape-metrics.js';
export {
  ScrapeDefaults,
  ScrapeFailure,
  type ScrapeFailureReason,
  ScrapeSource,
  type ScrapeTarget,
} from './scrape-source.js';
