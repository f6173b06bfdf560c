import type { AlertRule } from '../app-options.js';

/**
 * One alert rule's state. `pending`: the condition holds but not yet for `forMs`. `firing`: it held for
 * `forMs` and has not crossed back past the threshold by the hysteresis since.
 */
export type AlertState =
  | { kind: 'ok' }
  | { kind: 'pending'; since: number; value: number }
  | { kind: 'firing'; since: number; firedAt: number; value: number };

/**
 * What the rule is told: a new value from its channel (`undefined` when the field is missing or not a
 * finite number), or that time has passed (so a quiet channel whose last value breaches still fires).
 */
export type AlertInput =
  | { type: 'sample'; value: number | undefined; at: number }
  | { type: 'tick'; at: number };

/** An alert changing state, as published on the `alerts` channel (less `id`, `node`, `message`). */
export interface AlertTransition {
  state: 'firing' | 'resolved';
  value: number;
  /** When the condition started to hold (the same in the `firing` and `resolved` event of one alert). */
  since: number;
  at: number;
}

export interface AlertStep {
  state: AlertState;
  /** Set when this input fired or resolved the alert. */
  emit?: AlertTransition;
}

export const initialAlertState: AlertState = { kind: 'ok' };

/**
 * The one transition function of an alert rule. Pure: time comes in with the input.
 *
 * - ok → pending when a value breaches; pending → firing once it has breached for `forMs`;
 *   pending → ok as soon as a value does not breach (or is missing).
 * - firing → ok (emitting `resolved`) only when a value crosses back past the threshold by the
 *   hysteresis; a missing value leaves a firing alert firing (bad data is not good news).
 *
 * @example
 * let state = initialAlertState;
 * ({ state } = stepAlert(rule, state, { type: 'sample', value: 95, at: 0 }));
 * const { emit } = stepAlert(rule, state, { type: 'tick', at: rule.forMs }); // emit.state === 'firing'
 */
export function stepAlert(rule: AlertRule, state: AlertState, input: AlertInput): AlertStep {
  switch (state.kind) {
    case 'ok': {
      if (input.type === 'tick' || input.value === undefined || !breaches(rule, input.value))
        return { state };
      return holdOrFire(rule, { kind: 'pending', since: input.at, value: input.value }, input.at);
    }
    case 'pending': {
      if (input.type === 'tick') return holdOrFire(rule, state, input.at);
      if (input.value === undefined || !breaches(rule, input.value)) return { state: initialAlertState };
      return holdOrFire(rule, { ...state, value: input.value }, input.at);
    }
    case 'firing': {
      if (input.type === 'tick' || input.value === undefined) return { state };
      if (!recovers(rule, input.value)) return { state: { ...state, value: input.value } };
      return {
        state: initialAlertState,
        emit: { state: 'resolved', value: input.value, since: state.since, at: input.at },
      };
    }
  }
}

/** When a pending rule fires next, if nothing changes: what the engine sets its timer to. */
export function fireDueAt(rule: AlertRule, state: AlertState): number | undefined {
  return state.kind === 'pending' ? state.since + rule.forMs : undefined;
}

function holdOrFire(rule: AlertRule, pending: { kind: 'pending'; since: number; value: number }, at: number) {
  if (at - pending.since < rule.forMs) return { state: pending };
  const firing: AlertState = { kind: 'firing', since: pending.since, firedAt: at, value: pending.value };
  return {
    state: firing,
    emit: { state: 'firing', value: pending.value, since: pending.since, at },
  } as const;
}

/** True when `value` meets the rule's condition (`cpu > 90`). */
export function breaches(rule: Pick<AlertRule, 'op' | 'threshold'>, value: number): boolean {
  switch (rule.op) {
    case '>':
      return value > rule.threshold;
    case '>=':
      return value >= rule.threshold;
    case '<':
      return value < rule.threshold;
    case '<=':
      return value <= rule.threshold;
  }
}

/**
 * True when `value` is back past the threshold by the hysteresis: for `cpu > 90` with hysteresis 5,
 * 85 or less. With hysteresis 0 this is exactly "no longer breaches".
 */
export function recovers(rule: Pick<AlertRule, 'op' | 'threshold' | 'hysteresis'>, value: number): boolean {
  switch (rule.op) {
    case '>':
      return value <= rule.threshold - rule.hysteresis;
    case '>=':
      return value < rule.threshold - rule.hysteresis;
    case '<':
      return value >= rule.threshold + rule.hysteresis;
    case '<=':
      return value > rule.threshold + rule.hysteresis;
  }
}
