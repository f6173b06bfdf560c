// Subscribers per channel for the baseline servers.
export class ChannelSets {
  #sets = new Map();

  add(channel, member) {
    let set = this.#sets.get(channel);
    if (!set) {
      set = new Set();
      this.#sets.set(channel, set);
    }
    set.add(member);
    return () => set.delete(member);
  }

  get(channel) {
    return this.#sets.get(channel);
  }

  get size() {
    let sum = 0;
    for (const set of this.#sets.values()) sum += set.size;
    return sum;
  }
}
