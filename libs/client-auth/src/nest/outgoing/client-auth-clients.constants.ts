/** Injection token of the resolved `ClientAuthClientsModuleOptions`. */
export const CLIENT_AUTH_CLIENTS_OPTIONS_TOKEN = Symbol('ClientAuthClientsOptions');
