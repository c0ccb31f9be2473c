/** XML namespaces of the public feeds. */
export const ATOM_NS = 'http://www.w3.org/2005/Atom';
export const HISTORY_NS = 'http://purl.org/syndication/history/1.0';
export const APP_NS = 'http://www.w3.org/2007/app';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
/** The entry contract's own namespace; its last segment is the contract's major version. */
export const SHOP_NS = 'urn:example:shop:feed:1';
/** The scheme of every event-type category. */
export const EVENT_TYPE_SCHEME = 'urn:example:shop:event-type';
export const ATOM_CONTRACT_VERSION = '1.0';
