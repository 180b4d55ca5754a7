// Generated container names, "adjective_surname" as Docker users expect.
import { randomInt } from 'node:crypto';

const LEFT = [
  'admiring', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever', 'cool',
  'compassionate', 'competent', 'confident', 'crazy', 'dazzling', 'determined', 'eager', 'ecstatic', 'elastic', 'elated',
  'elegant', 'epic', 'festive', 'focused', 'friendly', 'frosty', 'gallant', 'gifted', 'goofy', 'gracious', 'happy', 'hopeful',
  'hungry', 'infallible', 'inspiring', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest',
  'nervous', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic', 'peaceful', 'pensive', 'practical', 'priceless', 'quirky',
  'quizzical', 'relaxed', 'reverent', 'romantic', 'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'sweet', 'tender', 'thirsty',
  'trusting', 'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];

// Scientists and engineers, as Docker's generator honours them.
const RIGHT = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'babbage', 'banach', 'bardeen', 'bartik', 'bell', 'bhabha', 'bohr', 'booth',
  'borg', 'bose', 'brahmagupta', 'carson', 'cerf', 'chandrasekhar', 'clarke', 'curie', 'darwin', 'dijkstra', 'einstein',
  'elion', 'euclid', 'euler', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'goodall', 'hamilton',
  'hawking', 'heisenberg', 'hopper', 'hypatia', 'jackson', 'johnson', 'kalam', 'kepler', 'knuth', 'lamarr', 'lamport',
  'leakey', 'liskov', 'lovelace', 'lumiere', 'mayer', 'mccarthy', 'meitner', 'mirzakhani', 'morse', 'napier', 'newton',
  'nobel', 'noether', 'pascal', 'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'ramanujan', 'ritchie', 'sammet', 'shannon',
  'sinoussi', 'stallman', 'swartz', 'tesla', 'thompson', 'torvalds', 'turing', 'wiles', 'williams', 'wozniak', 'wright', 'yalow',
];

export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const base = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
    const name = i < 10 ? base : `${base}${randomInt(10)}`;
    if (!taken(name)) return name;
  }
}

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
