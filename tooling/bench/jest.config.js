// Unit specs beside the code; the smoke test under test/ runs the real services (from their dist/).
module.exports = require('@shop/jest-preset').service();
