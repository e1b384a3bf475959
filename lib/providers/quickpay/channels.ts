// Which Pusher channels a notification node's topics stand for [doc][seed]: the merchant's own
// streams are named after the merchant id, rates have one channel, and any other channel can be
// named directly as `channel:<name>` (the sandbox's `test-channel`, a channel QuickPay adds later).

export const STREAM_TOPICS = ['rates', 'payments', 'notifications', 'merchant'] as const;
export type StreamTopic = (typeof STREAM_TOPICS)[number];

/** The characters the Pusher protocol allows in a channel name, and its length limit. */
const CHANNEL_NAME = /^[-a-zA-Z0-9_=@,.;]{1,164}$/;

export const isChannelName = (name: string): boolean => CHANNEL_NAME.test(name);

export interface TopicChannels {
  channels: string[];
  /** Topics that name nothing: unknown words, bad channel names, channel kinds QuickPay does not use. */
  ignored: Array<{ topic: string; why: string }>;
}

export function channelsForTopics(topics: readonly string[], merchantId: string): TopicChannels {
  const channels: string[] = [];
  const ignored: TopicChannels['ignored'] = [];
  const add = (name: string) => {
    if (!channels.includes(name)) channels.push(name);
  };
  for (const raw of topics) {
    const topic = typeof raw === 'string' ? raw.trim() : '';
    if (!topic) continue;
    if (topic.startsWith('channel:')) {
      const name = topic.slice('channel:'.length).trim();
      const why = channelProblem(name);
      if (why) ignored.push({ topic, why });
      else add(name);
      continue;
    }
    switch (topic) {
      case 'rates':
        add('private-exchange-rate');
        break;
      case 'payments':
      case 'notifications':
      case 'merchant':
        if (!merchantId) ignored.push({ topic, why: 'the merchant id is not set, and the channel is named after it' });
        else add(`private-${topic}.${merchantId}`);
        break;
      default:
        ignored.push({ topic, why: `not a QuickPay stream (${STREAM_TOPICS.join(', ')}) nor channel:<name>` });
    }
  }
  return { channels, ignored };
}

function channelProblem(name: string): string | undefined {
  if (!isChannelName(name)) return 'not a valid channel name (letters, digits and - _ = @ , . ; only, at most 164)';
  // pusher-js throws for encrypted channels without a nacl implementation; presence needs user data QuickPay does not give.
  if (name.startsWith('private-encrypted-')) return 'encrypted channels are not supported';
  if (name.startsWith('presence-')) return 'presence channels are not supported';
  return undefined;
}
