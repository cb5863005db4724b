import { createRequire as __mtpCreateRequire } from 'node:module'; const require = __mtpCreateRequire(import.meta.url);
var e=".mtu-preflight.yml";function r(n,t){return n||(t(e)?e:void 0)}export{e as a,r as b};
