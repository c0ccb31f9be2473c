import { expect } from 'chai';
import { type ConsumedEntry, createLogger, type Db, migrate, openDatabase, readFeedDocument } from '@shop/common';
import { call, expectProblem, takePort, tempDir } from '@shop/common/testing';
import { type RunningBillingService, startBillingService } from '../billing-service/src/testing/startBillingService.ts';
import { readConfig } from '../notification-service/src/config.ts';
import { notificationMigrations } from '../notification-service/src/db/migrations.ts';
import { buildNotificationService, type NotificationService } from '../notification-service/src/notificationService.ts';
import { adaOrder } from '../order-service/src/testing/adaOrder.ts';
import { type RunningOrderService, startOrderService } from '../order-service/src/testing/startOrderService.ts';
import { type RunningShippingService, startShippingService } from '../shipping-service/src/testing/startShippingService.ts';

/**
 * Cancellation, end to end, with the four real services on real ports choreographed only by
 * their feeds: the order service reads shipping's feed (a dispatched order can no longer be
 * cancelled), billing voids and refunds, shipping stops the parcel or says it had already left,
 * and the notification service writes the cancellation email from their sections. Each service
 * reads its feeds when the test says, as its poll loop would, so the race is staged exactly.
 */
describe('Cancellation, end to end, by choreography over the feeds', function () {
  this.timeout(60_000);
  const dir = tempDir();
  let orders: RunningOrderService;
  let billing: RunningBillingService;
  let shipping: RunningShippingService;
  let notifyDb: Db;
  let notification: NotificationService;

  before(async () => {
    // The order service reads shipping, which reads the order service: take its port first.
    const reserved = await takePort();
    const orderPort = new URL(reserved.url).port;
    await reserved.close();
    const orderFeed = `http://127.0.0.1:${orderPort}/feed`;
    billing = await startBillingService(`${dir.path}/billing`, { ORDER_FEED_URL: orderFeed, BILLING_AUTO_CAPTURE: '1' });
    shipping = await startShippingService(`${dir.path}/shipping`, { ORDER_FEED_URL: orderFeed, BILLING_FEED_URL: `${billing.url}/feed` });
    orders = await startOrderService(`${dir.path}/orders`, { PORT: orderPort, SHIPPING_FEED_URL: `${shipping.url}/feed` });
    const config = readConfig({
      DATA_DIR: `${dir.path}/notification`, ORDER_FEED_URL: orderFeed, BILLING_FEED_URL: `${billing.url}/feed`, SHIPPING_FEED_URL: `${shipping.url}/feed`,
      POLL_SCHEDULE: '100ms', LONG_POLL_SECONDS: '0', RETRY_BASE_MS: '0',
    });
    notifyDb = openDatabase(config.dbFile);
    migrate(notifyDb, notificationMigrations);
    notification = buildNotificationService(notifyDb, config, { logger: createLogger({}, 'silent') });
  });
  after(async () => {
    await notification.stop();
    notifyDb.close();
    await orders.close();
    await shipping.close();
    await billing.close();
    dir.remove();
  });

  /** Every reader reads what is new, publishers' readers first; the order service only when told. */
  async function settle(o: { orderReadsShipping: boolean } = { orderReadsShipping: true }): Promise<void> {
    for (let round = 0; round < 2; round++) {
      await billing.orderFeed.pollOnce();
      await shipping.orderFeed.pollOnce();
      await shipping.billingFeed.pollOnce();
      if (o.orderReadsShipping) await orders.shippingFeed.pollOnce();
      await notification.cycle();
    }
  }
  const place = async (body: unknown): Promise<string> => {
    const r = await call('POST', `${orders.url}/orders`, body);
    expect(r.status, r.body).to.equal(201);
    return r.json()['id'] as string;
  };
  const cancel = (id: string) => call('POST', `${orders.url}/orders/${id}/cancel`, { reason: 'Changed my mind' });
  const dispatch = async (id: string) => {
    const r = await call('POST', `${shipping.url}/shipments/${id}/dispatch`, { carrier: 'Royal Mail', trackingNumber: 'RM123456785GB' });
    expect(r.status, r.body).to.equal(200);
  };
  const emailsOf = (id: string) => notification.store.list().filter((m) => m.orderId === id).reverse();
  const entriesOf = async (url: string, id: string): Promise<ConsumedEntry[]> =>
    readFeedDocument((await call('GET', `${url}/feed`, undefined, { accept: 'application/atom+xml' })).body).entries.filter((e) => e.orderId === id);
  const books = { ...adaOrder, lines: [adaOrder.lines[0]] };
  const ebook = { ...adaOrder, lines: [adaOrder.lines[1]], shippingAddress: null };

  it('emails an order confirmed, then cancelled, its cancellation with the refund: amount, card and when', async () => {
    const id = await place(books);
    await settle();
    expect(emailsOf(id).map((m) => m.kind)).to.deep.equal(['confirmation']);

    const r = await cancel(id);
    expect(r.status, r.body).to.equal(200);
    await settle();

    const total = (await call('GET', `${billing.url}/invoices/${id}`)).json()['total'] as string;
    const voided = (await entriesOf(billing.url, id)).find((e) => e.type === 'InvoiceVoided')!;
    expect(voided.payload['refundDetails']).to.deep.include({ amount: total, currency: 'GBP', method: { type: 'card', brand: 'visa', last4: '4242' } });
    expect((await entriesOf(shipping.url, id)).map((e) => e.type)).to.deep.equal(['ShipmentScheduled', 'ShipmentCancelled']);

    const emails = emailsOf(id);
    expect(emails.map((m) => m.kind)).to.deep.equal(['confirmation', 'cancellation']);
    const mail = emails[1]!;
    expect(mail.subject).to.equal(`Your Atom Shop order ${id} is cancelled`);
    expect(mail.text).to.match(new RegExp(`A refund of £${total.replace('.', '\\.')} to Visa ending 4242 was issued on \\d{1,2} \\w+ \\d{4}\\.`));
    expect(mail.text).to.include('within 5 to 10 working days').and.include(voided.summary);
    expect(mail.html).to.include(voided.contentXhtml).and.not.include('Already on its way');
  });

  it('refuses to cancel (409) an order whose parcel was dispatched, or whose downloads were delivered, once it has read so', async () => {
    const parcel = await place(books);
    const downloads = await place(ebook);
    await settle();
    await dispatch(parcel);
    await settle();
    expectProblem(await cancel(parcel), 409, new RegExp(`^Order ${parcel} was dispatched on \\w+day, \\d{1,2} \\w+ \\d{4}; it can no longer be cancelled$`));
    expectProblem(await cancel(downloads), 409, new RegExp(`^Order ${downloads} can no longer be cancelled: its downloads were delivered on \\w+day, \\d{1,2} \\w+ \\d{4}$`));
    expect((await entriesOf(orders.url, parcel)).map((e) => e.type)).to.deep.equal(['OrderPlaced']);
    expect(emailsOf(parcel).map((m) => m.kind)).to.deep.equal(['confirmation', 'dispatched']);
  });

  it('lets a cancel accepted before the dispatch was read stand: shipping publishes DispatchedBeforeCancellation, and the email shows it with the refund', async () => {
    const id = await place(adaOrder); // books and an eBook
    await settle({ orderReadsShipping: false });
    expect(emailsOf(id).map((m) => m.kind)).to.deep.equal(['confirmation']);
    await dispatch(id);
    const r = await cancel(id); // the order service has not read the dispatch (nor the downloads)
    expect(r.status, r.body).to.equal(200);
    await settle({ orderReadsShipping: false });

    const told = (await entriesOf(shipping.url, id)).find((e) => e.type === 'DispatchedBeforeCancellation');
    expect(told, 'on the shipping feed').to.not.equal(undefined);
    expect(told!.payload['shipment']).to.deep.include({ carrier: 'Royal Mail', trackingNumber: 'RM123456785GB' });
    expect(told!.payload['downloads']).to.not.equal(null);
    expect(told!.summary).to.include('Please refuse the delivery').and.include('costs you nothing');

    const mail = emailsOf(id).find((m) => m.kind === 'cancellation');
    expect(mail, 'a cancellation email').to.not.equal(undefined);
    const voided = (await entriesOf(billing.url, id)).find((e) => e.type === 'InvoiceVoided')!;
    for (const section of [told!, voided]) {
      expect(mail!.html, section.type).to.include(section.contentXhtml);
      expect(mail!.text, section.type).to.include(section.summary);
    }
    expect(mail!.text).to.match(/A refund of £\d+\.\d\d to Visa ending 4242 was issued on/);

    // The order service reads the dispatch late: the order stays cancelled, and says when it left.
    await orders.shippingFeed.pollOnce();
    expect((await call('GET', `${orders.url}/orders/${id}`)).json()).to.include({ status: 'cancelled', cancellable: false }).and.have.property('dispatchedAt').that.is.a('string');
    expectProblem(await cancel(id), 409, /already cancelled/);
  });
});
