// What every page may read: the signed-in user and the server's capabilities.
export const state = { me: null, capabilities: null };
