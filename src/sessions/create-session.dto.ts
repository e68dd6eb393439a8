import { IsString, Length } from 'class-validator';

export class CreateSessionDto {
  /**
   * A label for the attached number.
   * @example "Customer service"
   */
  @IsString()
  @Length(1, 100)
  name!: string;
}
