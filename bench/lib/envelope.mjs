// The same envelope bytes livedash sends (protocol `encodeEnvelope`), for the baseline servers.
export function envelope(channel, seq, ts, data) {
  return `{"type":"${channel}","seq":${seq},"epoch":"bench","ts":${ts},"data":${JSON.stringify(data)}}`;
}
