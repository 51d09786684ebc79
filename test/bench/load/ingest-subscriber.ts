// Bare subscriber of the ingest benchmark, run as a child process:
//
//     node --import tsx test/bench/load/ingest-subscriber.ts REDIS_URL CHANNEL
//
// Subscribes with ioredis and only counts messages, the least any Node.js
// consumer of the channel does, so its rate is the ceiling the hub is
// compared with. It sends { type: 'subscribed' } once subscribed, and
// replies { type: 'count', messages } to every { type: 'count' } request.
import { Redis } from 'ioredis';

const [redisUrl, channel] = process.argv.slice(2);
if (!redisUrl || !channel) {
  process.stderr.write('ingest-subscriber: missing arguments; expected REDIS_URL CHANNEL.\n');
  process.exit(2);
}

const subscriber = new Redis(redisUrl);
let messages = 0;
// The 'message' event decodes each payload to a string, as the hub's
// subscriber does, so both pay for that step.
subscriber.on('message', () => {
  messages += 1;
});
await subscriber.subscribe(channel);
process.send?.({ type: 'subscribed' });

process.on('message', (request: { type?: string }) => {
  if (request.type === 'count') process.send?.({ type: 'count', messages });
});
process.on('disconnect', () => {
  void subscriber.quit().finally(() => process.exit(0));
});
