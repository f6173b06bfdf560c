import { configure } from '@testing-library/react';

// Tests share 2 cores with other work; a connection can take seconds to open under load. waitFor
// polls until the condition holds, so a long ceiling costs nothing when things are fast.
configure({ asyncUtilTimeout: 10_000 });
