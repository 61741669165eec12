/** Bad input on a page (a query parameter or a form field): a 400 page that says which. */
export class WebInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebInputError";
  }
}
