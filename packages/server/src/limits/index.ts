export { FrameRateLimiter, type FrameRateOptions, type FrameVerdict } from './frame-rate-limiter.js';
export { tooManyHeaders } from './header-limits.js';
export { ALLOWED_HOST_FORMS, HostPolicy, isAllowedHostEntry } from './host-policy.js';
export { LimitDefaults } from './limit-defaults.js';
export { type AuthOutcome, type LimitName, SecurityMetrics } from './limit-metrics.js';
export { OriginPolicy } from './origin-policy.js';
export { PerIpCounter } from './per-ip-counter.js';
export { TokenBucket } from './token-bucket.js';
