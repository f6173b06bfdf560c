// A fixed-size latency histogram: 0.05 ms buckets up to 10 s, so millions of samples cost no allocation.
const BUCKET_MS = 0.05;
const BUCKETS = 200_000;

export class LatencyHistogram {
  #counts = new Uint32Array(BUCKETS + 1);
  #total = 0;
  #max = 0;
  #sum = 0;

  record(ms) {
    const value = Math.max(ms, 0);
    const index = Math.min(BUCKETS, Math.floor(value / BUCKET_MS));
    this.#counts[index]++;
    this.#total++;
    this.#sum += value;
    if (value > this.#max) this.#max = value;
  }

  reset() {
    this.#counts.fill(0);
    this.#total = 0;
    this.#max = 0;
    this.#sum = 0;
  }

  get count() {
    return this.#total;
  }

  percentile(p) {
    if (this.#total === 0) return null;
    const rank = Math.ceil((p / 100) * this.#total);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return i === BUCKETS ? this.#max : (i + 1) * BUCKET_MS;
    }
    return this.#max;
  }

  summary() {
    if (this.#total === 0) return { count: 0, p50: null, p99: null, max: null, mean: null };
    return {
      count: this.#total,
      p50: round(this.percentile(50)),
      p99: round(this.percentile(99)),
      max: round(this.#max),
      mean: round(this.#sum / this.#total),
    };
  }
}

function round(ms) {
  return Math.round(ms * 100) / 100;
}
