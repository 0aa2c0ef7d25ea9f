module.exports = require('@shop/jest-preset').service();
