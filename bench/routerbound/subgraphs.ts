/**
 * The router-bound scenario's subgraphs: four small @apollo/subgraph schemas answering from
 * deterministic in-memory data — a shop's catalog, inventory, pricing and reviews, whose types
 * are split across subgraphs so that a nested query hops between them at every level.
 *
 * - catalog owns Category, Product (name, sku) and Customer (name, favorites);
 * - inventory adds Product.stock and Product.warehouse, and owns Warehouse (name, city);
 * - pricing adds Product.price and Warehouse.shippingCost;
 * - reviews adds Product.reviews (Review → author: Customer) and Customer.reviewCount.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';

export interface RouterBoundSubgraph {
  readonly name: 'catalog' | 'inventory' | 'pricing' | 'reviews';
  readonly sdl: string;
  readonly resolvers: GraphQLResolverMap<unknown>;
}

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';

const PRODUCTS = 500;
const CUSTOMERS = 200;
const WAREHOUSES = 12;
const CITIES = ['Berlin', 'Hamburg', 'Leipzig', 'Munich', 'Cologne', 'Dresden'];

const productIndex = (id: string) => Number(id.slice(1));
const customerIndex = (id: string) => Number(id.slice(1));
const product = (index: number) => ({ id: `p${index % PRODUCTS}` });
const take = (first: number | undefined, fallback: number) =>
  Math.max(0, Math.min(first ?? fallback, 50));

const catalog: RouterBoundSubgraph = {
  name: 'catalog',
  sdl: `${LINK}
type Query {
  categories(first: Int = 5): [Category!]!
}
type Category @key(fields: "id") {
  id: ID!
  name: String!
  products(first: Int = 5): [Product!]!
}
type Product @key(fields: "id") {
  id: ID!
  name: String!
  sku: String!
}
type Customer @key(fields: "id") {
  id: ID!
  name: String!
  favorites(first: Int = 2): [Product!]!
}
`,
  resolvers: {
    Query: {
      categories: (_root, args: { first?: number }) =>
        Array.from({ length: take(args.first, 5) }, (_, c) => ({ id: `c${c}` })),
    },
    Category: {
      __resolveReference: (ref: { id: string }) => ref,
      name: (category: { id: string }) => `Category ${category.id.slice(1)}`,
      products: (category: { id: string }, args: { first?: number }) =>
        Array.from({ length: take(args.first, 5) }, (_, i) =>
          product(Number(category.id.slice(1)) * 37 + i * 11),
        ),
    },
    Product: {
      __resolveReference: (ref: { id: string }) => ref,
      name: (p: { id: string }) => `Product ${productIndex(p.id)} — stainless steel widget`,
      sku: (p: { id: string }) => `SKU-${String(productIndex(p.id)).padStart(6, '0')}`,
    },
    Customer: {
      __resolveReference: (ref: { id: string }) => ref,
      name: (c: { id: string }) => `Customer ${customerIndex(c.id)}`,
      favorites: (c: { id: string }, args: { first?: number }) =>
        Array.from({ length: take(args.first, 2) }, (_, i) =>
          product(customerIndex(c.id) * 13 + i * 29),
        ),
    },
  },
};

const inventory: RouterBoundSubgraph = {
  name: 'inventory',
  sdl: `${LINK}
type Product @key(fields: "id") {
  id: ID!
  stock: Int!
  warehouse: Warehouse!
}
type Warehouse @key(fields: "id") {
  id: ID!
  name: String!
  city: String!
}
`,
  resolvers: {
    Product: {
      __resolveReference: (ref: { id: string }) => ref,
      stock: (p: { id: string }) => (productIndex(p.id) * 7919) % 1000,
      warehouse: (p: { id: string }) => ({ id: `w${productIndex(p.id) % WAREHOUSES}` }),
    },
    Warehouse: {
      __resolveReference: (ref: { id: string }) => ref,
      name: (w: { id: string }) => `Warehouse ${w.id.slice(1)}`,
      city: (w: { id: string }) => CITIES[Number(w.id.slice(1)) % CITIES.length],
    },
  },
};

const pricing: RouterBoundSubgraph = {
  name: 'pricing',
  sdl: `${LINK}
type Product @key(fields: "id") {
  id: ID!
  price: Money!
}
type Warehouse @key(fields: "id") {
  id: ID!
  shippingCost: Money!
}
type Money {
  amount: Float!
  currency: String!
}
`,
  resolvers: {
    Product: {
      __resolveReference: (ref: { id: string }) => ref,
      price: (p: { id: string }) => ({
        amount: ((productIndex(p.id) * 389) % 10_000) / 100,
        currency: 'EUR',
      }),
    },
    Warehouse: {
      __resolveReference: (ref: { id: string }) => ref,
      shippingCost: (w: { id: string }) => ({
        amount: 4.9 + Number(w.id.slice(1)),
        currency: 'EUR',
      }),
    },
  },
};

const REVIEW_TEXT =
  'Solid build, arrived on time; the mounting kit could be better documented, but support helped.';

const reviews: RouterBoundSubgraph = {
  name: 'reviews',
  sdl: `${LINK}
type Product @key(fields: "id") {
  id: ID!
  reviews(first: Int = 3): [Review!]!
}
type Review {
  id: ID!
  rating: Int!
  body: String!
  author: Customer!
}
type Customer @key(fields: "id") {
  id: ID!
  reviewCount: Int!
}
`,
  resolvers: {
    Product: {
      __resolveReference: (ref: { id: string }) => ref,
      reviews: (p: { id: string }, args: { first?: number }) =>
        Array.from({ length: take(args.first, 3) }, (_, i) => {
          const n = productIndex(p.id) * 3 + i;
          return {
            id: `${p.id}-r${i}`,
            rating: 1 + (n % 5),
            body: REVIEW_TEXT,
            author: { id: `u${(n * 17) % CUSTOMERS}` },
          };
        }),
    },
    Customer: {
      __resolveReference: (ref: { id: string }) => ref,
      reviewCount: (c: { id: string }) => (customerIndex(c.id) % 9) + 1,
    },
  },
};

export const ROUTER_BOUND_SUBGRAPHS: readonly RouterBoundSubgraph[] = [
  catalog,
  inventory,
  pricing,
  reviews,
];
