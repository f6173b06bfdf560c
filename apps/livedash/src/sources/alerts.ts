import { isValidFieldPath, readNumber } from '@livedash/dashboard-config';
import { isValidChannel } from '@livedash/protocol';
import type { AlertRule } from '../app-options.js';
import {
  type AlertInput,
  type AlertState,
  type AlertTransition,
  fireDueAt,
  initialAlertState,
  stepAlert,
} from './alert-state.js';
import { METRICS_CHANNEL } from './host-metrics.js';
import { consoleSourceLog, FailureStreak, type SourceHub, type SourceLog } from './source-hub.js';

/** An event on the `alerts` channel. A `firing` event and the `resolved` one that ends it share `id`. */
export interface AlertEvent {
  /** `<node>:<rule>:<since>`: one alert, from firing to resolved. */
  id: string;
  rule: string;
  state: 'firing' | 'resolved';
  /** The value that fired (the last breaching one) or resolved the alert. */
  value: number;
  threshold: number;
  severity: AlertRule['severity'];
  /** One line for people: `cpu-high: cpu is 93.2 (> 90) for 10 s`. */
  message: string;
  /** When the alert fired or resolved, ms since the Unix epoch. */
  ts: number;
  /** When the condition started to hold. */
  since: number;
  /** The node whose rule it is (alerts of every node share the channel under Redis). */
  node: string;
  channel: string;
  field: string;
}

export const ALERTS_CHANNEL = 'alerts';

export interface AlertEngineOptions {
  node: string;
  log?: SourceLog;
}

interface RuleRuntime {
  readonly rule: AlertRule;
  state: AlertState;
  /** Set while pending: fires the rule at `since + forMs` even if its channel goes quiet. */
  timer: NodeJS.Timeout | undefined;
  /** When `timer` is due. */
  timerDue: number;
}

/**
 * Runs alert rules: each watches its channel through the hub, steps its state machine (alert-state.ts)
 * on every value and on its own timer, and publishes `firing` / `resolved` events on `alerts`.
 *
 * @example
 * const engine = new AlertEngine(hub, [{ name: 'cpu-high', channel: 'metrics', field: 'cpu', op: '>',
 *   threshold: 90, forMs: 10_000, hysteresis: 5, severity: 'warning' }], { node: 'web-1' });
 * engine.start();
 * // …
 * await engine.stop();
 */
export class AlertEngine {
  readonly #hub: SourceHub;
  readonly #node: string;
  readonly #rules: RuleRuntime[];
  readonly #publishFailures: FailureStreak;
  readonly #unwatch: Array<() => void> = [];
  readonly #publishing = new Set<Promise<void>>();
  #stopped = false;

  constructor(hub: SourceHub, rules: readonly AlertRule[], options: AlertEngineOptions) {
    assertRules(rules);
    this.#hub = hub;
    this.#node = options.node;
    this.#rules = rules.map((rule) => ({ rule, state: initialAlertState, timer: undefined, timerDue: 0 }));
    this.#publishFailures = new FailureStreak(options.log ?? consoleSourceLog, 'alert publish');
  }

  /** Each rule's current state, by rule name. */
  get states(): ReadonlyMap<string, AlertState> {
    return new Map(this.#rules.map((runtime) => [runtime.rule.name, runtime.state]));
  }

  start(): void {
    if (this.#unwatch.length > 0 || this.#stopped) return;
    for (const runtime of this.#rules) {
      const { channel, field } = runtime.rule;
      const unwatch = this.#hub.watch(channel, (data) => {
        if (channel === METRICS_CHANNEL && isFromOtherNode(data, this.#node)) return;
        this.#apply(runtime, { type: 'sample', value: readNumber(data, field) ?? undefined, at: Date.now() });
      });
      this.#unwatch.push(unwatch);
    }
  }

  /** Stops watching, clears timers and waits for alert events already being published. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    for (const runtime of this.#rules) clearTimeout(runtime.timer);
    await Promise.all(this.#publishing);
  }

  #apply(runtime: RuleRuntime, input: AlertInput): void {
    if (this.#stopped) return;
    const step = stepAlert(runtime.rule, runtime.state, input);
    runtime.state = step.state;
    if (step.emit) this.#publish(this.#toEvent(runtime.rule, step.emit));
    this.#schedule(runtime);
  }

  #schedule(runtime: RuleRuntime): void {
    const due = fireDueAt(runtime.rule, runtime.state);
    // While pending on a busy channel every message lands here; keep the timer that is already right.
    if (due !== undefined && runtime.timer !== undefined && runtime.timerDue === due) return;
    clearTimeout(runtime.timer);
    runtime.timer = undefined;
    if (due === undefined) return;
    runtime.timerDue = due;
    runtime.timer = setTimeout(
      () => {
        runtime.timer = undefined;
        // Timers may run a little early relative to Date.now(); never earlier than `due`.
        this.#apply(runtime, { type: 'tick', at: Math.max(Date.now(), due) });
      },
      Math.max(0, due - Date.now()),
    );
    runtime.timer.unref();
  }

  #publish(event: AlertEvent): void {
    const publishing: Promise<void> = this.#hub.publish(ALERTS_CHANNEL, event).then(
      () => this.#publishFailures.succeeded(),
      (error: unknown) => this.#publishFailures.failed(error),
    );
    this.#publishing.add(publishing);
    void publishing.finally(() => this.#publishing.delete(publishing));
  }

  #toEvent(rule: AlertRule, transition: AlertTransition): AlertEvent {
    return {
      id: `${this.#node}:${rule.name}:${transition.since}`,
      rule: rule.name,
      state: transition.state,
      value: transition.value,
      threshold: rule.threshold,
      severity: rule.severity,
      message: describeTransition(rule, transition),
      ts: transition.at,
      since: transition.since,
      node: this.#node,
      channel: rule.channel,
      field: rule.field,
    };
  }
}

/**
 * When many nodes share channels through Redis, `metrics` may carry every node's readings; a rule on
 * it alerts on this node's machine only. Messages without a `node` (published by hand) still count.
 */
function isFromOtherNode(data: unknown, node: string): boolean {
  return typeof data === 'object' && data !== null && 'node' in data && data.node !== node;
}

function describeTransition(rule: AlertRule, transition: AlertTransition): string {
  const value = formatNumber(transition.value);
  if (transition.state === 'firing') {
    const held = rule.forMs > 0 ? ` for ${formatDuration(transition.at - transition.since)}` : '';
    return `${rule.name}: ${rule.field} is ${value} (${rule.op} ${formatNumber(rule.threshold)})${held}`;
  }
  return `${rule.name} resolved: ${rule.field} is ${value} after ${formatDuration(transition.at - transition.since)}`;
}

const formatNumber = (value: number): string => String(Math.round(value * 100) / 100);

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

/** Rules come validated from the config file; these checks catch a caller building bad ones in code. */
function assertRules(rules: readonly AlertRule[]): void {
  const names = new Set<string>();
  for (const rule of rules) {
    if (names.has(rule.name)) throw new TypeError(`alert rule "${rule.name}" is defined twice`);
    names.add(rule.name);
    if (!isValidChannel(rule.channel)) throw new TypeError(`alert rule "${rule.name}": invalid channel`);
    if (!isValidFieldPath(rule.field)) throw new TypeError(`alert rule "${rule.name}": invalid field path`);
    const numbers = [rule.threshold, rule.forMs, rule.hysteresis];
    if (!numbers.every(Number.isFinite) || rule.forMs < 0 || rule.hysteresis < 0) {
      throw new TypeError(
        `alert rule "${rule.name}": threshold, forMs and hysteresis must be finite, forMs and hysteresis ≥ 0`,
      );
    }
  }
}
