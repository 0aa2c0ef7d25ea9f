import { join } from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { ZodValidationPipe } from '@shop/service-kit';

/** Plain files, no build step: the pages fetch /api and listen to its event streams. */
export const WEB_DIR = join(__dirname, '..', '..', 'web');

const orderId = new ZodValidationPipe(z.uuid(), 'order id');

@ApiExcludeController()
@Controller()
export class PagesController {
  @Get()
  map(@Res() response: Response): void {
    response.sendFile(join(WEB_DIR, 'index.html'));
  }

  @Get('orders/:orderId')
  journey(@Param('orderId', orderId) _id: string, @Res() response: Response): void {
    response.sendFile(join(WEB_DIR, 'journey.html'));
  }
}
