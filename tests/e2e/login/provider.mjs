// A certified OpenID provider (oidc-provider) on loopback for gatehouse's browser test.
// One static confidential client ("gatehouse"); any login name is an account whose email
// is that name, so "ana@example.com" and "eve@other.com" are the two test users. Sign-in
// and consent use oidc-provider's built-in devInteractions forms.
//
//   PORT=.. REDIRECT_URI=http://127.0.0.1:N/_gatehouse/callback node provider.mjs
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const users = new Set(['ana@example.com', 'eve@other.com']);

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'gatehouse',
    client_secret: 'e2e-secret',
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  conformIdTokenClaims: false, // put scope claims in the ID token, which is all gatehouse reads
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    if (!users.has(id)) return undefined;
    return { accountId: id, async claims() { return { sub: id, email: id, email_verified: true }; } };
  },
});
provider.on('server_error', (ctx, err) => console.error('provider error', err));
provider.listen(port, '127.0.0.1', () => console.log('READY ' + issuer));
