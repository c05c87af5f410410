/** What the whole page shares: who is signed in, the socket client, the open trip. */
export const app = {
  me: null, // {id, username}
  client: null, // the TravaClient while signed in
  trip: null, // the open trip's state (trip/index.js)
};
