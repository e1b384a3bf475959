export {
  QuickPaySimulator, type QuickPaySimulatorOptions, type QuickPayFault, type MalformedKind,
} from './simulator';
export { SIMULATOR_APP_KEY, SIMULATOR_API_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys } from './keys';
export { AUTH_PATH, merchantChannels, type AuthCall } from './auth-endpoint';
export { channelAuth } from './channel-auth';
export { RATE_CHANNEL, RATE_EVENT, TEST_CHANNEL, TEST_EVENT } from './publisher';
