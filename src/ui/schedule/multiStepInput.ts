import * as vscode from 'vscode';

/**
 * The multi-step QuickInput of vscode-extension-samples' quickinput-sample: one QuickPick or
 * InputBox at a time, a Back button from the second step on, Escape cancels the whole flow.
 * Back and cancel arrive as thrown InputFlowAction values, as in the sample.
 */
export class InputFlowAction {
  static readonly back = new InputFlowAction();
  static readonly cancel = new InputFlowAction();
}

export interface PickOptions<T extends vscode.QuickPickItem> {
  title: string;
  placeholder: string;
  items: T[];
  activeItem?: T;
  canPickMany?: boolean;
  canGoBack: boolean;
}

export interface InputOptions {
  title: string;
  prompt: string;
  value: string;
  placeholder: string;
  canGoBack: boolean;
  /** Runs on every keystroke; its message blocks Enter until the value is valid. */
  validate: (value: string) => string | undefined;
}

export class MultiStepInput implements vscode.Disposable {
  private current: vscode.QuickInput | undefined;

  /** Resolves with the picked items (one unless canPickMany). */
  async showQuickPick<T extends vscode.QuickPickItem>(o: PickOptions<T>): Promise<readonly T[]> {
    const disposables: vscode.Disposable[] = [];
    try {
      return await new Promise<readonly T[]>((resolve, reject) => {
        const input = vscode.window.createQuickPick<T>();
        input.title = o.title;
        input.placeholder = o.placeholder;
        input.items = o.items;
        input.canSelectMany = o.canPickMany === true;
        input.ignoreFocusOut = true;
        if (o.canPickMany) input.selectedItems = o.items.filter((i) => i.picked);
        else if (o.activeItem) input.activeItems = [o.activeItem];
        input.buttons = o.canGoBack ? [vscode.QuickInputButtons.Back] : [];
        disposables.push(
          input.onDidTriggerButton((b) => { if (b === vscode.QuickInputButtons.Back) reject(InputFlowAction.back); }),
          input.onDidAccept(() => resolve(o.canPickMany ? input.selectedItems : input.activeItems.slice(0, 1))),
          input.onDidHide(() => reject(InputFlowAction.cancel)),
        );
        this.replace(input);
      });
    } finally {
      disposables.forEach((d) => d.dispose());
    }
  }

  async showInputBox(o: InputOptions): Promise<string> {
    const disposables: vscode.Disposable[] = [];
    try {
      return await new Promise<string>((resolve, reject) => {
        const input = vscode.window.createInputBox();
        input.title = o.title;
        input.value = o.value;
        input.prompt = o.prompt;
        input.placeholder = o.placeholder;
        input.ignoreFocusOut = true;
        input.buttons = o.canGoBack ? [vscode.QuickInputButtons.Back] : [];
        input.validationMessage = o.validate(o.value);
        disposables.push(
          input.onDidTriggerButton((b) => { if (b === vscode.QuickInputButtons.Back) reject(InputFlowAction.back); }),
          input.onDidChangeValue((v) => { input.validationMessage = o.validate(v); }),
          input.onDidAccept(() => {
            const message = o.validate(input.value);
            input.validationMessage = message;
            if (message === undefined) resolve(input.value);
          }),
          input.onDidHide(() => reject(InputFlowAction.cancel)),
        );
        this.replace(input);
      });
    } finally {
      disposables.forEach((d) => d.dispose());
    }
  }

  private replace(input: vscode.QuickInput): void {
    // Show the next step before disposing the previous one, so the widget does not flicker closed
    // (a hide event of the old input would otherwise read as "cancel").
    const previous = this.current;
    this.current = input;
    input.show();
    previous?.dispose();
  }

  dispose(): void {
    this.current?.dispose();
    this.current = undefined;
  }
}
