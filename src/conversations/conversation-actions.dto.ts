import { ApiProperty } from '@nestjs/swagger';
import { IsIn, ValidateBy, ValidationArguments } from 'class-validator';
import { storedTextProblem, StoredText } from '../common/validation/stored-text';
import { MAX_TEXT_LENGTH } from '../messages/send-message.dto';
import { PRESENCE_STATES, PresenceState } from '../whatsapp/whatsapp-provider';
import { isSingleEmoji } from './emoji';

/** Room for the longest emoji sequences (a family, a subdivision flag), in code points. */
const MAX_EMOJI_LENGTH = 32;

/** What is wrong with a reaction's `emoji`, or null: one emoji, or `""`. */
function emojiProblem(value: unknown): string | null {
  const problem = storedTextProblem(value, { min: 0, max: MAX_EMOJI_LENGTH });
  if (problem) return problem;
  return value === '' || isSingleEmoji(value as string) ? null : 'must be exactly one emoji, or "" to remove the reaction';
}

export class SetReactionDto {
  @ApiProperty({
    type: 'string',
    maxLength: MAX_EMOJI_LENGTH,
    description:
      'Exactly one emoji (skin tones, flags, keycaps and ZWJ sequences such as 👩🏽‍💻 are one emoji), or `""` to remove ' +
      'this number\'s reaction.',
    example: '👍',
  })
  @ValidateBy({
    name: 'reactionEmoji',
    validator: {
      validate: (value: unknown) => emojiProblem(value) === null,
      defaultMessage: (args?: ValidationArguments) => emojiProblem(args?.value) ?? 'must be one emoji',
    },
  })
  emoji!: string;
}

export class EditMessageDto {
  @ApiProperty({
    description: 'The new text, 1 to 4096 characters (code points); NUL and unpaired surrogates are refused.',
    example: 'Pesanan Anda sudah dikirim hari ini.',
  })
  @StoredText({ min: 1, max: MAX_TEXT_LENGTH })
  text!: string;
}

export class SetPresenceDto {
  @ApiProperty({
    enum: PRESENCE_STATES,
    description: '`composing`: typing; `recording`: recording a voice note; `paused`: stopped.',
    example: 'composing',
  })
  @IsIn(PRESENCE_STATES)
  state!: PresenceState;
}
