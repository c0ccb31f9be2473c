/** The example `POST /orders` body: a valid order, for tests, benchmarks and demos. */
export const adaOrder = {
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  currency: 'GBP',
  lines: [
    { sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2, unitPrice: '12.50', delivery: 'physical' },
    { sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', delivery: 'digital' },
  ],
  shippingAddress: { line1: '12 St James\'s Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
};
