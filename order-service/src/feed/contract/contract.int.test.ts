import { describeFeedContract } from '@shop/common/testing';
import { ORDER_FEED_TYPES } from '../toFeedEntry.ts';
import { orderFeedExamples } from './examples.ts';

describeFeedContract({ service: 'order-service', types: ORDER_FEED_TYPES, generate: orderFeedExamples });
