/** The console's pages, in menu order; `admin` ones are shown to the operator's key only. */
import type { ComponentType } from 'react';
import type { MessageKey } from '../../i18n/dictionary.js';
import { BalancePage } from './balance-page.js';
import { BatchesPage } from './batches-page.js';
import { ContextsPage } from './contexts-page.js';
import { EndpointsPage } from './endpoints-page.js';
import { EnginesPage } from './engines-page.js';
import { FilesPage } from './files-page.js';
import { KeysPage } from './keys-page.js';
import { PricesPage } from './prices-page.js';
import { QueuePage } from './queue-page.js';
import { RedeemCodesPage } from './redeem-codes-page.js';
import { TenantsPage } from './tenants-page.js';
import { TopUpsPage } from './topups-page.js';
import { UsagePage } from './usage-page.js';

export interface ConsolePage {
  path: string;
  title: MessageKey;
  admin: boolean;
  Component: ComponentType;
}

export const consolePages: ConsolePage[] = [
  { path: '/console/usage', title: 'console.nav.usage', admin: false, Component: UsagePage },
  { path: '/console/balance', title: 'console.nav.balance', admin: false, Component: BalancePage },
  { path: '/console/keys', title: 'console.nav.keys', admin: false, Component: KeysPage },
  { path: '/console/endpoints', title: 'console.nav.endpoints', admin: false, Component: EndpointsPage },
  { path: '/console/queue', title: 'console.nav.queue', admin: false, Component: QueuePage },
  { path: '/console/engines', title: 'console.nav.engines', admin: false, Component: EnginesPage },
  { path: '/console/batches', title: 'console.nav.batches', admin: false, Component: BatchesPage },
  { path: '/console/files', title: 'console.nav.files', admin: false, Component: FilesPage },
  { path: '/console/contexts', title: 'console.nav.contexts', admin: false, Component: ContextsPage },
  { path: '/console/tenants', title: 'console.nav.tenants', admin: true, Component: TenantsPage },
  { path: '/console/prices', title: 'console.nav.prices', admin: true, Component: PricesPage },
  { path: '/console/topups', title: 'console.nav.topups', admin: true, Component: TopUpsPage },
  { path: '/console/redeem-codes', title: 'console.nav.redeemCodes', admin: true, Component: RedeemCodesPage },
];

/** `/console` itself opens the first page. */
export function pageFor(path: string): ConsolePage | undefined {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '/console' ? consolePages[0] : consolePages.find((page) => page.path === trimmed);
}
