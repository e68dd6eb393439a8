import { StoredText } from '../common/validation/stored-text';

export class CreateSessionDto {
  /**
   * A label for the attached number.
   * @example "Customer service"
   */
  @StoredText({ min: 1, max: 100 })
  name!: string;
}
