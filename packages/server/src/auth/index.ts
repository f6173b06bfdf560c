export {
  Authenticator,
  type AuthOptions,
  canPublish,
  canSubscribe,
  msUntilExpiry,
  type Principal,
  refusal,
} from './authenticator.js';
export { bearerToken, redactToken } from './bearer-token.js';
export { anonymousBindRefusal, isLoopbackHost } from './bind-policy.js';
export { type ChannelGrant, grantAllows, isValidChannelPattern } from './channel-grant.js';
export { constantTimeEqual } from './constant-time.js';
export { type MintOptions, mintToken } from './mint-token.js';
export {
  createTokenVerifier,
  type JwtOptions,
  type TokenVerifier,
  type VerifiedToken,
} from './token-verifier.js';
